import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobIdSchema, userIdSchema } from '../../src/api/schemas.js';
import { storable } from '../../src/callbacks/storable.js';
import { MAX_ID_LENGTH } from '../../src/domain/identifiers.js';
import { resultCallback, simulatedJob } from '../../src/simulator/callbacks.js';
import { classifyBody } from '../../src/smileid/classify.js';
import { API_TOKEN, createTestApp, type TestApp } from '../helpers/app.js';
import { postCallback, signed } from '../helpers/callbacks.js';
import { submissionRequest } from '../helpers/submissions.js';
import { bearer } from '../http/api-fixtures.js';

/** What intake makes of a body naming these ids, after it crossed the wire as JSON. */
function attributed(jobId: string, userId: string, shape: 'callback' | 'job_status') {
  const partner = { job_id: jobId, user_id: userId, job_type: '1' };
  const body =
    shape === 'callback'
      ? { ResultCode: '1210', PartnerParams: partner }
      : { job_complete: true, job_success: true, result: { ResultCode: '1210', PartnerParams: partner } };
  const classified = storable(classifyBody(JSON.parse(JSON.stringify(body))));
  return { jobId: classified.jobId, userId: classified.userId };
}

/** Strings near every edge of the rule: markers and blanks, astral characters around the length limit. */
const edgyId = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.string({ unit: 'grapheme', minLength: 95, maxLength: 205 }),
  fc.integer({ min: MAX_ID_LENGTH - 3, max: MAX_ID_LENGTH + 3 }).map((count) => '😀'.repeat(count)),
  fc
    .tuple(
      fc.constantFrom('', 'N/A', 'n/a', 'Not Available', 'NOT AVAILABLE', 'not available'),
      fc.constantFrom('', ' ', '\t', '\u00a0', '\ufeff', '\n'),
      fc.constantFrom('', ' ', '\u2028', '\u3000'),
    )
    .map(([marker, before, after]) => `${before}${marker}${after}`),
);

describe('one rule for job and user ids, at the API and at intake', () => {
  it('attributes every id the API accepts to that same id, as a job id and as a user id, in either body shape', () => {
    fc.assert(
      fc.property(edgyId, fc.constantFrom('callback' as const, 'job_status' as const), (id, shape) => {
        if (jobIdSchema.safeParse(id).success) expect(attributed(id, 'u', shape).jobId).toBe(id);
        if (userIdSchema.safeParse(id).success) expect(attributed('j', id, shape).userId).toBe(id);
      }),
      { numRuns: 2000 },
    );
  });

  describe('through HTTP', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp();
    });
    afterAll(() => t?.close());

    const refusedIds: ReadonlyArray<readonly [string, string]> = [
      ['101 emoji past 200 characters', '😀'.repeat(MAX_ID_LENGTH + 1)],
      ['"N/A"', 'N/A'],
      ['"Not Available"', 'Not Available'],
      ['" "', ' '],
      ['empty', ''],
      ['"n/a" padded with spaces', '  n/a '],
      ['an unpaired surrogate', 'job-\ud800'],
    ];

    it.each(refusedIds)(
      'refuses a submission whose jobId is %s with 400 and says why',
      async (_what, jobId) => {
        const answer = await t.app.inject({
          method: 'POST',
          url: '/v1/submissions',
          headers: bearer(API_TOKEN),
          payload: submissionRequest({ jobId }),
        });
        expect(answer.statusCode, answer.body).toBe(400);
        expect(answer.json().error).toEqual({
          code: 'VALIDATION_FAILED',
          message: expect.stringMatching(
            /^body: jobId must (not be empty, blank|be at most 200|be well-formed)/,
          ),
        });
      },
    );

    it.each(refusedIds)('refuses a registration whose userId is %s with 400', async (_what, userId) => {
      const answer = await t.app.inject({
        method: 'POST',
        url: '/v1/jobs',
        headers: bearer(API_TOKEN),
        payload: { jobId: `job-${randomUUID()}`, userId },
      });
      expect(answer.statusCode, answer.body).toBe(400);
      expect(answer.json().error.message).toMatch(/^body: userId must /);
    });

    it.each<readonly [string, string]>([
      ['201 characters', 'x'.repeat(MAX_ID_LENGTH + 1)],
      ...refusedIds.filter(([, id]) => id !== '' && !id.includes('\ud800') && id.length <= 2 * MAX_ID_LENGTH),
    ])('refuses a path naming job %s with 400', async (_what, jobId) => {
      const answer = await t.app.inject({
        method: 'GET',
        url: `/v1/jobs/${encodeURIComponent(jobId)}`,
        headers: bearer(API_TOKEN),
      });
      expect(answer.statusCode, answer.body).toBe(400);
      expect(answer.json().error.message).toMatch(/^path: jobId must /);
    });

    it('refuses a path parameter too long to be any id as 414 PATH_TOO_LONG', async () => {
      const answer = await t.app.inject({
        method: 'GET',
        url: `/v1/jobs/${encodeURIComponent('😀'.repeat(MAX_ID_LENGTH + 1))}`,
        headers: bearer(API_TOKEN),
      });
      expect(answer.statusCode, answer.body).toBe(414);
      expect(answer.json().error.code).toBe('PATH_TOO_LONG');
    });

    // Each id starts with a tag of 8 characters of its own, so runs never share a job.
    it.each([
      ['a tag and 101 emoji (210 UTF-16 units)', (tag: string) => `${tag}${'😀'.repeat(101)}`],
      ['a tag and 192 emoji (200 characters)', (tag: string) => `${tag}${'😀'.repeat(MAX_ID_LENGTH - 8)}`],
      ['a tag and 192 CJK characters', (tag: string) => `${tag}${'中'.repeat(MAX_ID_LENGTH - 8)}`],
      ['spaces around it', (tag: string) => ` job ${tag} `],
    ])(
      'attributes the callbacks of a submission whose jobId is %s to its job, readable by its path',
      async (_what, idWith) => {
        const jobId = idWith(randomUUID().slice(0, 8));
        const request = submissionRequest({ jobId });
        const submitted = await t.app.inject({
          method: 'POST',
          url: '/v1/submissions',
          headers: bearer(API_TOKEN),
          payload: request,
        });
        expect(submitted.statusCode, submitted.body).toBe(202);
        const job = simulatedJob({ jobId, userId: request.userId });
        expect((await postCallback(t.app, signed(resultCallback(job)))).statusCode).toBe(200);

        const events = await t.db.pool.query('SELECT job_id FROM callback_events WHERE job_id = $1', [jobId]);
        expect(events.rows).toHaveLength(1);
        const read = await t.app.inject({
          method: 'GET',
          url: `/v1/jobs/${encodeURIComponent(jobId)}`,
          headers: bearer(API_TOKEN),
        });
        expect(read.statusCode, read.body).toBe(200);
        expect(read.json()).toMatchObject({ jobId, state: 'approved' });
      },
    );
  });
});
