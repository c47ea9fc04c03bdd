import { Signature } from 'smile-identity-core';
import { afterEach, describe, expect, it } from 'vitest';
import { forJob } from './recorded-shapes.js';
import { buildSimulator } from './server.js';

const PARTNER_ID = '085';
const API_KEY = 'simulator-test-key';
const oracle = new Signature(PARTNER_ID, API_KEY);
const job = { jobId: 'job-7', userId: 'user-7' };

/** Shaped like the Python SDK's job_status fixture: a result and a history, each with PartnerParams. */
const recorded = {
  job_complete: true,
  job_success: true,
  result: { ResultText: 'Enroll User', PartnerParams: { job_id: 'orig', user_id: 'orig-user', job_type: 1 } },
  history: [
    { ResultCode: '1210', PartnerParams: { job_id: 'orig', user_id: 'orig-user', optional: 'kept' } },
  ],
  timestamp: 'TIMESTAMP',
  signature: 'SIGNATURE',
};

describe('forJob', () => {
  it('points every PartnerParams at the job, keeping the partner’s other keys', () => {
    const pointed = forJob(recorded, job);
    expect(pointed.result.PartnerParams).toEqual({ job_id: 'job-7', user_id: 'user-7', job_type: 1 });
    expect(pointed.history[0]?.PartnerParams).toEqual({
      job_id: 'job-7',
      user_id: 'user-7',
      optional: 'kept',
    });
    expect(recorded.result.PartnerParams.job_id).toBe('orig');
  });
});

describe('a recorded job_status answer', () => {
  const sim = buildSimulator({ partnerId: PARTNER_ID, apiKey: API_KEY });
  afterEach(() => sim.app.close());

  it('is served for its job, pointed at it and freshly signed', async () => {
    await sim.app.inject({
      method: 'POST',
      url: '/__sim/jobs',
      payload: { ...job, life: 'never_started', statusBody: recorded },
    });
    const timestamp = new Date().toISOString();
    const response = await sim.app.inject({
      method: 'POST',
      url: '/v1/job_status',
      payload: {
        partner_id: PARTNER_ID,
        user_id: job.userId,
        job_id: job.jobId,
        image_links: false,
        history: true,
        ...oracle.generate_signature(timestamp),
        source_sdk: 'rest_api',
        source_sdk_version: '1.0.0',
      },
    });
    const answer = response.json();
    expect(answer).toMatchObject({ job_complete: true, result: { ResultText: 'Enroll User' } });
    expect(answer.history[0].PartnerParams.job_id).toBe(job.jobId);
    expect(oracle.confirm_signature(answer.timestamp, answer.signature)).toBe(true);
    expect(answer.timestamp).not.toBe('TIMESTAMP');
  });
});
