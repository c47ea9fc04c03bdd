import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { resultCallback, simulatedJob } from '../../src/simulator/callbacks.js';
import { signed } from '../helpers/callbacks.js';
import { eventually, jobWhen, simulatedService } from '../helpers/service.js';

/**
 * A Redis db index of this file's own: FLUSHDB empties it whole, as an operator, an eviction or a
 * failover to an empty replica would, while the service's connections stay open.
 */
const FLUSHED_REDIS_URL = 'redis://127.0.0.1:6379/12';

describe('a Redis flushed under the running service', () => {
  const context = simulatedService({ REDIS_URL: FLUSHED_REDIS_URL });
  const admin = new Redis(FLUSHED_REDIS_URL, { maxRetriesPerRequest: 1 });
  afterAll(() => admin.quit());

  const schedulers = async () =>
    (await context.service.deps.worker!.producer.queue('maintenance').getJobSchedulers())
      .map((each) => each.key)
      .sort();

  it('has its schedules declared again within a minute, and a final callback that arrived meanwhile confirmed', {
    timeout: 120_000,
  }, async () => {
    const { service, sim } = context;
    const declared = await eventually(async () => {
      const keys = await schedulers();
      return keys.length >= 3 ? keys : undefined;
    });
    expect(declared).toContain('sweep-due-checks');

    await admin.flushdb();
    const flushedAt = Date.now();
    expect(await admin.dbsize()).toBeLessThan(5);

    // A signed final callback arrives while nothing sweeps, and its check falls due.
    const job = simulatedJob();
    await sim.control('/jobs', { jobId: job.jobId, userId: job.userId, life: 'approved' });
    expect((await service.postCallback(signed(resultCallback(job, 'approved')))).status).toBe(200);
    await service.deps.db.pool.query(
      "UPDATE jobs SET next_check_at = now() - interval '1 second' WHERE job_id = $1",
      [job.jobId],
    );

    const back = await eventually(
      async () => ((await schedulers()).join() === declared!.join() ? Date.now() : undefined),
      60_000,
      500,
    );
    expect(back).toBeDefined();
    expect(back! - flushedAt).toBeLessThan(60_000);
    const confirmed = await jobWhen(service, job.jobId, (current) => current.confirmed, 30_000);
    expect(confirmed).toMatchObject({ state: 'approved', isFinal: true, confirmed: true, nextCheckAt: null });

    // The sweeps' runs are recorded again, where every worker's readiness reads them.
    const recorded = await eventually(async () => {
      const at = Number(await admin.hget(`${service.config.REDIS_PREFIX}:schedule-runs`, 'sweep-due-checks'));
      return at > back! ? at : undefined;
    });
    expect(recorded).toBeDefined();

    const metrics = await (await fetch(`${service.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(
      /smileid_schedules_redeclared_total\{schedule="sweep-due-checks",reason="missing"\} 1/,
    );
    expect(service.logs()).toContain('a schedule was missing from Redis');
    expect((await fetch(`${service.baseUrl}/readyz`)).status).toBe(200);
  });
});
