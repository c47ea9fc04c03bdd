import { describe, expect, it } from 'vitest';
import { DEFAULT_POLL_MODEL } from '../../src/domain/poll-schedule.js';
import { createStatusCheck } from '../../src/reconcile/check-status.js';
import { resultCallback, simulatedJob, smileSecureCallback } from '../../src/simulator/callbacks.js';
import { jobStatusAt } from '../../src/simulator/job-lives.js';
import { createStatusStore } from '../../src/store/evidence/status-store.js';
import { signed } from '../helpers/callbacks.js';
import { type ApiBody, eventually, jobWhen, simulatedService } from '../helpers/service.js';
import { DEFAULT_POLICY, silentLogger, unreachableSmileId } from '../helpers/status.js';

/**
 * An attacker who has seen one genuine callback holds a (timestamp, signature) pair that verifies on any
 * body for the tolerance window: the signature covers the timestamp and partner id, never the body.
 * These tests post such bodies to the real service, with the simulator playing Smile ID.
 */
describe('forged claims with a borrowed signature', () => {
  const running = simulatedService();

  const post = (body: Record<string, unknown>) => running.service.postCallback(body);
  /** A genuine pair, as an attacker would capture it from another job's callback. */
  const borrowedPair = () => {
    const genuine = signed(resultCallback(simulatedJob()));
    return { timestamp: genuine.timestamp, signature: genuine.signature };
  };
  const outcome = async (jobId: string) => (await running.service.api('GET', `/v1/jobs/${jobId}`)).body;
  const until = (jobId: string, predicate: (job: ApiBody) => boolean | undefined) =>
    jobWhen(running.service, jobId, predicate, 20_000);
  const simulate = async (life: string, extra: Record<string, unknown> = {}) => {
    const job = simulatedJob();
    await running.sim.control('/jobs', { jobId: job.jobId, userId: job.userId, life, ...extra });
    const registered = await running.service.api('POST', '/v1/jobs', {
      jobId: job.jobId,
      userId: job.userId,
      jobType: 1,
    });
    expect(registered.status).toBe(201);
    return job;
  };
  const events = async (jobId: string) =>
    (
      await running.service.deps.db.pool.query(
        `SELECT trusted, identity_conflict AS "identityConflict", contradicted_at AS "contradictedAt"
           FROM callback_events WHERE job_id = $1 ORDER BY received_at`,
        [jobId],
      )
    ).rows;

  it('keeps a registered job’s user and job type when a fresh-signed final approval names another user', async () => {
    const job = await simulate('review', { reviewDelayMs: 60_000 });
    const forged = {
      ...resultCallback(job, 'approved'),
      PartnerParams: { job_id: job.jobId, user_id: 'attacker', job_type: 4 },
      ...borrowedPair(),
    };
    expect((await post(forged)).status).toBe(200);
    const shown = await outcome(job.jobId);
    expect(shown).toMatchObject({ userId: job.userId, jobType: 1, userIdSource: 'registration' });
    // On a slow machine the registration's own check may already have found the job in review; either way
    // the claimed approval is never shown as confirmed.
    if (shown.state === 'approved') expect(shown.confirmed).toBe(false);
    expect(await events(job.jobId)).toEqual([expect.objectContaining({ identityConflict: true })]);
    // job_status is asked about the registered user, finds the job in review and overrules the claim.
    await until(job.jobId, (current) => current.confirmed && current.state === 'provisional');
    const calls = (await running.sim.control('/stats')) as { callsPerJob: Record<string, number> };
    expect(calls.callsPerJob[job.jobId]).toBeGreaterThan(0);
    const again = await running.service.api('POST', '/v1/jobs', {
      jobId: job.jobId,
      userId: job.userId,
      jobType: 1,
    });
    expect(again.status).toBe(200);
  });

  it('shows a forged final approval during human review only until its own confirmation check, never confirmed, and decides nothing on it', async () => {
    const job = await simulate('review', { reviewDelayMs: 60_000 });
    const reviewing = await until(
      job.jobId,
      (current) => current.confirmed && current.state === 'provisional',
    );
    expect(reviewing?.decision).toMatchObject({ value: 'pending', rule: 'smile_id_review_in_progress' });
    const postedAt = Date.now();
    await post({ ...resultCallback(job, 'approved'), ...borrowedPair() });
    const claimed = await outcome(job.jobId);
    const seen: ApiBody[] = [claimed];
    const demoted = await until(job.jobId, (current) => {
      seen.push(current);
      return !current.isFinal;
    });
    const shownFinalForMs = Date.now() - postedAt;
    expect(demoted).toMatchObject({ state: 'provisional', confirmed: true, needsConfirmation: true });
    expect(shownFinalForMs).toBeLessThan(10_000);
    expect(seen.filter((current) => current.state === 'approved' && current.confirmed)).toEqual([]);
    // Shown approved and final for a few seconds, yet never approved: the claim was not confirmed.
    if (claimed.state === 'approved') {
      expect(claimed.decision).toMatchObject({ value: 'pending', rule: 'awaiting_confirmation' });
    }
    expect(seen.map((current) => current.decision?.value)).toEqual(seen.map(() => 'pending'));
    expect(demoted?.decision).toMatchObject({ value: 'pending', rule: 'smile_id_review_in_progress' });
    const approvedBySearch = await running.service.api(
      'GET',
      `/v1/jobs?decision=approve&userId=${job.userId}`,
    );
    expect(approvedBySearch.body).toMatchObject({ items: [] });
    // The second look still disagrees: the claim is contradicted and counted.
    const contradicted = await eventually(async () => {
      const rows = await events(job.jobId);
      return rows.some((row) => row.contradictedAt !== null);
    });
    expect(contradicted).toBe(true);
    const metrics = await (await fetch(`${running.service.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/^smileid_callbacks_contradicted_total [1-9]/m);
  });

  it('never overturns an outcome job_status confirmed final, and clears needsConfirmation once settled', async () => {
    const job = await simulate('rejected');
    const settled = await until(job.jobId, (current) => current.isFinal && current.confirmed);
    expect(settled).toMatchObject({ state: 'rejected', needsConfirmation: false });
    await post({ ...resultCallback(job, 'approved'), ...borrowedPair() });
    const after = await outcome(job.jobId);
    expect(after).toMatchObject({
      state: 'rejected',
      isFinal: true,
      confirmed: true,
      needsConfirmation: false,
      decision: { value: 'reject', rule: 'rejected', decidedAt: settled?.decision?.decidedAt },
    });
  });

  it('lets no forged Smile Secure "no suspects" clear suspects a callback reported', async () => {
    const job = await simulate('review', { reviewDelayMs: 60_000 });
    const suspects = [{ user_id: 'suspect-1', reason: 'same face' }];
    await post(signed(smileSecureCallback(job, suspects)));
    await post({ ...smileSecureCallback(job, []), ...borrowedPair() });
    expect((await outcome(job.jobId)).suspectUsers).toEqual([{ userId: 'suspect-1', reason: 'same face' }]);
  });

  it('shows the user a body names for a job never registered only until job_status returns it for that user', async () => {
    const job = simulatedJob();
    await running.sim.control('/jobs', { jobId: job.jobId, userId: job.userId, life: 'approved' });
    await post({ ...resultCallback(job, 'approved'), ...borrowedPair() });
    expect(await outcome(job.jobId)).toMatchObject({
      userId: job.userId,
      userIdSource: 'callback',
      needsConfirmation: true,
    });
    const confirmed = await until(job.jobId, (current) => current.confirmed && current.isFinal);
    expect(confirmed).toMatchObject({ userIdSource: 'job_status', needsConfirmation: false });
  });

  it('lets a registration win over a user that only a body claimed, with 201', async () => {
    const job = simulatedJob();
    await post({
      ...resultCallback(job, 'provisional'),
      PartnerParams: { job_id: job.jobId, user_id: 'attacker', job_type: 1 },
      ...borrowedPair(),
    });
    const registered = await running.service.api('POST', '/v1/jobs', {
      jobId: job.jobId,
      userId: job.userId,
    });
    expect(registered.status).toBe(201);
    expect(registered.body).toMatchObject({ userId: job.userId, userIdSource: 'registration' });
  });

  it('lets a job_status answer confirm only the user it was asked about, even if a body changed the user meanwhile', async () => {
    const job = simulatedJob();
    const stale = new Date(Date.now() - 3_600_000).toISOString();
    // A late genuine callback (stale pair) names the real user; its one check asks about that user.
    await post(signed(resultCallback(job, 'approved'), stale));
    const store = createStatusStore({
      pool: running.service.deps.db.pool,
      cipher: running.service.deps.cipher,
      vault: running.service.deps.storage.vault,
    });
    const check = createStatusCheck({
      store,
      client: unreachableSmileId,
      log: silentLogger,
      pollModel: { ...DEFAULT_POLL_MODEL, horizonMs: 3_600_000 },
      policy: DEFAULT_POLICY,
    });
    const asked = await store.load(job.jobId);
    expect(asked?.outcome.userId).toBe(job.userId);
    // Meanwhile a forged body with a fresh pair names another user.
    await post({
      ...resultCallback(job, 'approved'),
      PartnerParams: { job_id: job.jobId, user_id: 'attacker', job_type: 1 },
      ...borrowedPair(),
    });
    const answer = {
      ...jobStatusAt('approved', job, 10_000_000),
      timestamp: new Date().toISOString(),
      signature: 'verified',
    };
    await check.apply(
      job.jobId,
      {
        kind: 'status',
        body: answer,
        raw: Buffer.from(JSON.stringify(answer)),
        timestamp: answer.timestamp,
        signature: 'verified',
      },
      new Date(),
      asked,
    );
    const shown = await outcome(job.jobId);
    expect(shown).toMatchObject({ userId: 'attacker', userIdSource: 'callback' });
    expect(shown.userIdSource).not.toBe('job_status');
  });
});
