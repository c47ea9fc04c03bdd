import { describe, expect, it } from 'vitest';
import { signRequest } from '../smileid/signature.js';
import { lifeNamedIn, readPrepUpload, UNAUTHORIZED, zipMismatch } from './upload-requests.js';

const expected = { partnerId: '085', apiKey: 'simulator-upload-key' };
const prepUpload = (overrides: Record<string, unknown> = {}) => ({
  smile_client_id: expected.partnerId,
  ...signRequest(expected.apiKey, expected.partnerId, new Date('2026-12-07T10:00:00.000Z')),
  partner_params: { job_id: 'job-1', user_id: 'user-1', job_type: '1' },
  callback_url: 'http://127.0.0.1:3000/callbacks/smile-id',
  ...overrides,
});

describe('reading a prep upload', () => {
  it('reads the job, user, callback URL and retry flag of a signed one', () => {
    expect(readPrepUpload(prepUpload({ retry: 'true' }), expected)).toEqual({
      ok: true,
      prep: {
        jobId: 'job-1',
        userId: 'user-1',
        callbackUrl: 'http://127.0.0.1:3000/callbacks/smile-id',
        retry: true,
      },
    });
    expect(readPrepUpload(prepUpload({ retry: false }), expected)).toMatchObject({ prep: { retry: false } });
    expect(readPrepUpload(prepUpload(), expected)).toMatchObject({ prep: { retry: false } });
  });

  it('refuses a missing or invalid parameter with 2213, naming it', () => {
    const { callback_url: _dropped, ...withoutCallback } = prepUpload();
    expect(readPrepUpload(withoutCallback, expected)).toEqual({
      ok: false,
      status: 400,
      body: { code: '2213', error: 'Missing or invalid parameter: callback_url' },
    });
    const badJobType = prepUpload({ partner_params: { job_id: 'job-1', user_id: 'user-1', job_type: 'x' } });
    expect(readPrepUpload(badJobType, expected)).toMatchObject({
      body: { error: 'Missing or invalid parameter: partner_params.job_type' },
    });
  });

  it('refuses another partner, or a signature not made with the key, with 2205', () => {
    const refused = { ok: false, status: 401, body: UNAUTHORIZED };
    expect(readPrepUpload(prepUpload({ smile_client_id: '086' }), expected)).toEqual(refused);
    expect(readPrepUpload(prepUpload(), { ...expected, apiKey: 'another-key' })).toEqual(refused);
  });
});

describe('whether a zip is the one its upload URL was prepared for', () => {
  const upload = { jobId: 'job-1', userId: 'user-1', smileJobId: '1234567890' };

  it('is when its partner params and server information match', () => {
    expect(zipMismatch(upload, { ...upload })).toBeUndefined();
  });

  it('is not when its job or user differ, or its server information is another upload’s', () => {
    expect(zipMismatch(upload, { ...upload, jobId: 'job-2' })).toBe(
      'partner_params differ from the prep upload',
    );
    expect(zipMismatch(upload, { ...upload, userId: 'user-2' })).toBe(
      'partner_params differ from the prep upload',
    );
    expect(zipMismatch(upload, { ...upload, smileJobId: '1234567891' })).toBe(
      "server_information is not this upload's",
    );
  });
});

describe('the life a zip’s job lives', () => {
  it('is the one sim_life names, else approved', () => {
    expect(lifeNamedIn({ sim_life: 'rejected' })).toBe('rejected');
    expect(lifeNamedIn({ sim_life: 'no such life' })).toBe('approved');
    expect(lifeNamedIn({})).toBe('approved');
  });
});
