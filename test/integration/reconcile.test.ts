import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resultCallback, simulatedJob } from '../../src/simulator/callbacks.js';
import { signed } from '../helpers/callbacks.js';
import {
  type ApiBody,
  eventually,
  jobWhen,
  startService,
  startSimulator,
  type TestService,
  type TestSimulator,
} from '../helpers/service.js';

describe('reconciliation against the Smile ID simulator', () => {
  let sim: TestSimulator;
  let service: TestService;
  beforeAll(async () => {
    sim = await startSimulator();
    service = await startService(sim.url);
  });
  afterAll(async () => {
    await service.close();
    await sim.close();
  });

  const simulate = (life: string, extra: Record<string, unknown> = {}) => {
    const job = simulatedJob();
    return sim.control('/jobs', { jobId: job.jobId, userId: job.userId, life, ...extra }).then(() => job);
  };
  const outcome = async (jobId: string) => (await service.api('GET', `/v1/jobs/${jobId}`)).body;
  const settled = (jobId: string, predicate: (job: ApiBody) => boolean | undefined, timeoutMs?: number) =>
    jobWhen(service, jobId, predicate, timeoutMs);
  const postCallback = (body: Record<string, unknown>) =>
    fetch(`${service.baseUrl}/callbacks/smile-id`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('recovers a job whose callbacks were all lost, by polling job_status', async () => {
    const job = await simulate('approved');
    const registered = await service.api('POST', '/v1/jobs', {
      jobId: job.jobId,
      userId: job.userId,
      jobType: 1,
    });
    expect(registered.status).toBe(201);
    expect(registered.body).toMatchObject({ state: 'pending', confirmed: false });

    const final = await settled(job.jobId, (current) => current.confirmed);
    expect(final).toMatchObject({ state: 'approved', isFinal: true, confirmed: true, resultCode: '1210' });
    // The ID facet came from job_status history, since no callback carried it.
    const { rows } = await service.deps.db.pool.query('SELECT id_info FROM jobs WHERE job_id = $1', [
      job.jobId,
    ]);
    expect(service.deps.cipher.openJson(rows[0].id_info, `jobs.id_info:${job.jobId}`)).toMatchObject({
      idNumber: job.idNumber,
    });
  });

  it('turns a provisional job final once the simulated human review completes', async () => {
    const job = await simulate('review', { reviewDelayMs: 4000 });
    await service.api('POST', '/v1/jobs', { jobId: job.jobId, userId: job.userId });
    await service.api('POST', `/v1/jobs/${job.jobId}/reconcile`);
    const provisional = await settled(job.jobId, (current) => current.state === 'provisional');
    expect(provisional).toMatchObject({ isFinal: false });
    const final = await settled(job.jobId, (current) => current.isFinal && current.confirmed, 20_000);
    expect(final).toMatchObject({ state: 'approved', resultCode: '1210' });
    const { rows } = await service.deps.db.pool.query(
      'SELECT from_state, to_state, to_final FROM job_transitions WHERE job_id = $1 ORDER BY id',
      [job.jobId],
    );
    expect(rows.map((row) => `${row.from_state}→${row.to_state}`)).toEqual([
      'null→pending',
      'pending→provisional',
      'provisional→approved',
    ]);
  });

  it('does not confirm a forged callback claiming approval; the job ends with the true result', async () => {
    const job = await simulate('rejected');
    const forged = await postCallback(signed(resultCallback(job, 'approved')));
    expect(forged.status).toBe(200);
    expect(await outcome(job.jobId)).toMatchObject({ state: 'approved', confirmed: false });

    const truth = await settled(job.jobId, (current) => current.confirmed);
    expect(truth).toMatchObject({ state: 'rejected', isFinal: true, resultCode: '0907' });
  });

  it('confirms a job made final by its callback within seconds, with one job_status call', async () => {
    const job = await simulate('approved');
    const started = Date.now();
    await postCallback(signed(resultCallback(job, 'approved')));
    await settled(job.jobId, (current) => current.confirmed);
    expect(Date.now() - started).toBeLessThan(8000);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const stats = (await sim.control('/stats')) as { callsPerJob: Record<string, number> };
    expect(stats.callsPerJob[job.jobId]).toBe(1);
    expect((await outcome(job.jobId)).nextCheckAt).toBeNull();
  });

  it('never applies a job_status response whose signature does not verify', async () => {
    const job = await simulate('approved', { faults: { badSignature: true } });
    await service.api('POST', '/v1/jobs', { jobId: job.jobId, userId: job.userId });
    await service.api('POST', `/v1/jobs/${job.jobId}/reconcile`);
    const checked = await eventually(async () => {
      const { rows } = await service.deps.db.pool.query(
        'SELECT check_count, state FROM jobs WHERE job_id = $1',
        [job.jobId],
      );
      return rows[0].check_count > 0 ? rows[0] : undefined;
    });
    expect(checked).toMatchObject({ state: 'pending' });
    const snapshots = await service.deps.db.pool.query('SELECT 1 FROM status_snapshots WHERE job_id = $1', [
      job.jobId,
    ]);
    expect(snapshots.rowCount).toBe(0);
    expect(service.logs()).toContain('job_status response signature does not verify');
  });

  it('retries a job_status call that fails with 5xx, and applies the answer that follows', async () => {
    const job = await simulate('approved', { faults: { failNext: 2 } });
    await service.api('POST', '/v1/jobs', { jobId: job.jobId, userId: job.userId });
    await service.api('POST', `/v1/jobs/${job.jobId}/reconcile`);
    const final = await settled(job.jobId, (current) => current.confirmed);
    expect(final).toMatchObject({ state: 'approved' });
    const stats = (await sim.control('/stats')) as { callsPerJob: Record<string, number> };
    expect(stats.callsPerJob[job.jobId]).toBeGreaterThanOrEqual(3);
  });

  it('surfaces an authorisation error loudly and backs off instead of hot-looping', async () => {
    const job = await simulate('approved', { faults: { authError: true } });
    await service.api('POST', '/v1/jobs', { jobId: job.jobId, userId: job.userId });
    await service.api('POST', `/v1/jobs/${job.jobId}/reconcile`);
    await eventually(async () => service.logs().includes('Smile ID refused our job_status signature'));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const stats = (await sim.control('/stats')) as { callsPerJob: Record<string, number> };
    expect(stats.callsPerJob[job.jobId]).toBe(1);
    const { rows } = await service.deps.db.pool.query(
      "SELECT next_check_at > now() + interval '10 minutes' AS postponed FROM jobs WHERE job_id = $1",
      [job.jobId],
    );
    expect(rows[0].postponed).toBe(true);
  });

  /** A job in a long review, registered as if 8 days ago (the default horizon is 7), then reconciled. */
  async function reviewPastHorizon(faults: Record<string, unknown> = {}) {
    const job = await simulate('review', { reviewDelayMs: 3_600_000, faults });
    await service.api('POST', '/v1/jobs', { jobId: job.jobId, userId: job.userId });
    await service.deps.db.pool.query(
      "UPDATE jobs SET created_at = now() - interval '8 days' WHERE job_id = $1",
      [job.jobId],
    );
    await service.api('POST', `/v1/jobs/${job.jobId}/reconcile`);
    return job;
  }

  it('gives up at the horizon and shows the job as stale rather than forgetting it', async () => {
    const job = await reviewPastHorizon();
    const stale = await settled(job.jobId, (current) => current.stale);
    expect(stale).toMatchObject({ state: 'provisional', isFinal: false, nextCheckAt: null });
    expect(service.logs()).toContain('job is stale');
  });

  it('lets a job whose every job_status attempt failed wait for a later check, not for the next lease', async () => {
    const job = await simulate('approved', { faults: { failRate: 1 } });
    await service.api('POST', '/v1/jobs', { jobId: job.jobId, userId: job.userId });
    // The check's attempts (5xx each, retried with backoff) are spent: the job waits at least 5 minutes,
    // not the 2-minute lease after which every attempt would start again.
    const waiting = await settled(
      job.jobId,
      (current) => current.nextCheckAt != null && Date.parse(current.nextCheckAt) > Date.now() + 4 * 60_000,
    );
    expect(Date.parse(waiting?.nextCheckAt ?? '')).toBeGreaterThan(Date.now() + 4 * 60_000);
    expect(waiting).toMatchObject({ stale: false, confirmed: false });
    expect(service.logs()).toContain('job_status kept failing');
  });

  it.each([
    ['answers 5xx', { failRate: 1 }],
    ['signs with another key', { badSignature: true }],
  ])(
    'gives up at the horizon when job_status for the job %s, and asks nothing more',
    async (_name, faults) => {
      const job = await reviewPastHorizon(faults);
      const stale = await settled(job.jobId, (current) => current.stale);
      expect(stale).toMatchObject({ stale: true, confirmed: false, nextCheckAt: null });
      const calls = async () =>
        ((await sim.control('/stats')) as { callsPerJob: Record<string, number> }).callsPerJob[job.jobId] ??
        0;
      const asked = await calls();
      await new Promise((resolve) => setTimeout(resolve, 3000));
      expect(await calls()).toBe(asked);
    },
  );

  it('answers 404 for a reconcile of an unknown job and 409 for a job id registered to another user', async () => {
    expect((await service.api('POST', '/v1/jobs/nope/reconcile')).status).toBe(404);
    const job = simulatedJob();
    expect((await service.api('POST', '/v1/jobs', { jobId: job.jobId, userId: job.userId })).status).toBe(
      201,
    );
    expect((await service.api('POST', '/v1/jobs', { jobId: job.jobId, userId: job.userId })).status).toBe(
      200,
    );
    const conflict = await service.api('POST', '/v1/jobs', { jobId: job.jobId, userId: 'someone-else' });
    expect(conflict).toMatchObject({ status: 409, body: { error: { code: 'JOB_CONFLICT' } } });
  });
});
