import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idInfoCallback, resultCallback, simulatedJob } from '../../src/simulator/callbacks.js';
import { API_TOKEN, createTestApp, PII_TOKEN, type TestApp } from '../helpers/app.js';
import { postCallback, signed } from '../helpers/callbacks.js';
import { expectErrorBody } from '../helpers/http.js';
import { bearer } from '../http/api-fixtures.js';

describe('DELETE /v1/users/:userId/identity-data', () => {
  let t: TestApp;
  const erased = simulatedJob();
  const erasedToo = simulatedJob({ userId: erased.userId });
  const kept = simulatedJob();

  beforeAll(async () => {
    t = await createTestApp();
    for (const job of [erased, erasedToo, kept]) {
      expect((await postCallback(t.app, signed(resultCallback(job, 'approved')))).statusCode).toBe(200);
      expect((await postCallback(t.app, signed(idInfoCallback(job)))).statusCode).toBe(200);
    }
  });
  afterAll(() => t?.close());

  const erase = (userId: string, token = PII_TOKEN) =>
    t.app.inject({ method: 'DELETE', url: `/v1/users/${userId}/identity-data`, headers: bearer(token) });
  const read = (jobId: string) =>
    t.app.inject({ method: 'GET', url: `/v1/jobs/${jobId}?include=idInfo`, headers: bearer(PII_TOKEN) });
  const bodies = async (jobId: string) =>
    (
      (
        await t.app.inject({
          method: 'GET',
          url: `/v1/jobs/${jobId}/events?include=body`,
          headers: bearer(PII_TOKEN),
        })
      ).json().items as Array<{ body: unknown }>
    ).map((item) => item.body);

  it('refuses a token that may not read identity data, erasing nothing', async () => {
    expectErrorBody(await erase(erased.userId, API_TOKEN), 403, 'PII_FORBIDDEN');
    expect((await read(erased.jobId)).json().idInfo).not.toBeNull();
  });

  it("erases the ID records and stored bodies of every job of the user, keeping outcomes, and no one else's", async () => {
    const answer = await erase(erased.userId);
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toEqual({
      userId: erased.userId,
      jobs: 2,
      idInfo: 2,
      callbackBodies: 4,
      statusBodies: 0,
      submissions: 0,
    });
    for (const job of [erased, erasedToo]) {
      const outcome = (await read(job.jobId)).json();
      expect(outcome).toMatchObject({ jobId: job.jobId, state: 'approved', idInfo: null });
      expect(await bodies(job.jobId)).toEqual([null, null]);
    }
    expect((await read(kept.jobId)).json().idInfo).toMatchObject({ idNumber: kept.idNumber });
    expect((await bodies(kept.jobId)).every((body) => body !== null)).toBe(true);
    const audit = await t.db.pool.query<{ job_id: string }>(
      "SELECT job_id FROM audit_log WHERE data_read = 'erasure' AND job_id = ANY($1) ORDER BY job_id",
      [[erased.jobId, erasedToo.jobId]],
    );
    expect(audit.rows.map((row) => row.job_id)).toEqual([erased.jobId, erasedToo.jobId].sort());
  });

  it('keeps an erased job from taking an ID record from a later callback', async () => {
    expect(
      (await postCallback(t.app, signed({ ...idInfoCallback(erased), Source: 'again' }))).statusCode,
    ).toBe(200);
    expect((await read(erased.jobId)).json().idInfo).toBeNull();
  });

  it('answers zeros for a user with nothing left to erase, or no jobs at all', async () => {
    expect((await erase('user-never-seen')).json()).toEqual({
      userId: 'user-never-seen',
      jobs: 0,
      idInfo: 0,
      callbackBodies: 0,
      statusBodies: 0,
      submissions: 0,
    });
  });
});
