import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulatedJob } from '../../src/simulator/callbacks.js';
import { suspectOf } from '../../src/simulator/job-lives.js';
import { API_TOKEN, createTestApp, REVIEW_TOKEN, type TestApp } from '../helpers/app.js';
import {
  approvedWithRegistrants,
  approvedWithSuspects,
  decisionDriver,
  lifeAnswer,
} from '../helpers/decisions.js';
import { expectErrorBody } from '../helpers/http.js';
import { bearer } from '../http/api-fixtures.js';

/**
 * GET /v1/users/:userId: is this user verified, by which job, since when; their jobs newest first; the
 * risk facts across them. Against the real database, with jobs decided by the default policy.
 */
describe('GET /v1/users/:userId', () => {
  let t: TestApp;
  let drive: ReturnType<typeof decisionDriver>;

  beforeAll(async () => {
    t = await createTestApp();
    drive = decisionDriver(t);
  });
  afterAll(() => t?.close());

  const user = (userId: string, token = API_TOKEN) =>
    t.app.inject({ method: 'GET', url: `/v1/users/${encodeURIComponent(userId)}`, headers: bearer(token) });
  /** Another job of the same user. */
  const jobOf = (userId: string) => ({ ...simulatedJob(), userId });

  it('answers 404 USER_NOT_FOUND for a user no job names', async () => {
    expectErrorBody(await user('user-never-seen-anywhere'), 404, 'USER_NOT_FOUND');
  });

  it('says a user is verified by the job approved first among those approved now, and lists their jobs newest first', async () => {
    const first = simulatedJob();
    const { userId } = first;
    const rejected = jobOf(userId);
    const approved = jobOf(userId);
    const waiting = jobOf(userId);
    for (const [seen, life] of [
      [first, 'approved'],
      [rejected, 'rejected'],
      [approved, 'approved'],
    ] as const) {
      await drive.register(seen);
      await drive.answer(seen, lifeAnswer(seen, life));
    }
    await drive.register(waiting);

    const response = await user(userId);
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json();
    const shown = async (jobId: string) =>
      (await t.app.inject({ method: 'GET', url: `/v1/jobs/${jobId}`, headers: bearer(API_TOKEN) })).json();
    const [firstJob, approvedJob] = [await shown(first.jobId), await shown(approved.jobId)];
    expect(body).toMatchObject({
      userId,
      verified: true,
      verifiedBy: { jobId: first.jobId, since: firstJob.decision.decidedAt, source: 'policy' },
      jobCount: 4,
      risk: { idNumberPreviouslyRegistered: false, previousRegistrantUserIds: [], suspectUsers: [] },
    });
    expect(body.jobs.map((job: { jobId: string }) => job.jobId)).toEqual([
      waiting.jobId,
      approved.jobId,
      rejected.jobId,
      first.jobId,
    ]);
    expect(body.jobs[0]).toMatchObject({
      state: 'pending',
      isFinal: false,
      confirmed: false,
      decision: { value: 'pending', rule: 'no_result' },
    });
    expect(body.jobs[1]).toMatchObject({
      state: 'approved',
      isFinal: true,
      confirmed: true,
      resultCode: '1210',
      decision: approvedJob.decision,
    });
    expect(body.jobs[2]).toMatchObject({ state: 'rejected', decision: { value: 'reject' } });

    // The first approval no longer stands (a person's decision reopened, say): the next one verifies.
    await t.db.pool.query(`UPDATE jobs SET decision = 'review' WHERE job_id = $1`, [first.jobId]);
    expect((await user(userId)).json().verifiedBy).toEqual({
      jobId: approved.jobId,
      since: approvedJob.decision.decidedAt,
      source: 'policy',
    });
  });

  it('says a user whose jobs are not approved is not verified, with the risk facts across every job', async () => {
    const suspected = simulatedJob();
    const { userId } = suspected;
    const registered = jobOf(userId);
    await drive.register(suspected);
    await drive.answer(suspected, approvedWithSuspects(suspected));
    await drive.register(registered);
    await drive.answer(registered, approvedWithRegistrants(registered, ['user-earlier', userId]));

    const body = (await user(userId)).json();
    expect(body).toMatchObject({
      userId,
      verified: false,
      verifiedBy: null,
      jobCount: 2,
      risk: {
        idNumberPreviouslyRegistered: true,
        previousRegistrantUserIds: ['user-earlier'],
        suspectUsers: [{ userId: suspectOf(suspected).user_id, reason: expect.any(String) }],
      },
    });
    expect(body.jobs.map((job: { decision: { rule: string } }) => job.decision.rule)).toEqual([
      'previously_registered_by_others',
      'smile_secure_suspects',
    ]);
  });

  it('says who verified a user a person approved', async () => {
    const seen = simulatedJob();
    await drive.register(seen);
    await drive.answer(seen, approvedWithSuspects(seen));
    expect((await user(seen.userId)).json().verified).toBe(false);
    const reviewed = await t.app.inject({
      method: 'POST',
      url: `/v1/jobs/${seen.jobId}/review`,
      headers: bearer(REVIEW_TOKEN),
      payload: { decision: 'approve', reason: 'suspect_is_a_twin' },
    });
    expect(reviewed.statusCode).toBe(200);
    expect((await user(seen.userId)).json()).toMatchObject({
      verified: true,
      verifiedBy: { jobId: seen.jobId, since: reviewed.json().decision.decidedAt, source: 'operator' },
    });
  });

  it('shows no identity data, whichever token asks', async () => {
    const seen = simulatedJob();
    await drive.register(seen);
    await drive.answer(seen, approvedWithRegistrants(seen, ['user-earlier']));
    // The job holds the ID record: a PII read shows it.
    const stored = await t.app.inject({
      method: 'GET',
      url: `/v1/jobs/${seen.jobId}?include=idInfo`,
      headers: bearer(REVIEW_TOKEN),
    });
    expect(stored.json().idInfo.idNumber).toBe(seen.idNumber);
    for (const token of [API_TOKEN, REVIEW_TOKEN]) {
      const text = (await user(seen.userId, token)).body;
      for (const secret of [seen.idNumber, seen.fullName, seen.dob, seen.phoneNumber]) {
        expect(text).not.toContain(secret);
      }
      expect(text).not.toContain('idInfo');
    }
  });

  it('refuses a user id the API never accepts', async () => {
    expectErrorBody(await user('N/A'), 400, 'VALIDATION_FAILED');
  });
});
