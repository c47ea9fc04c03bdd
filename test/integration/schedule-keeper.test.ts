import { randomBytes } from 'node:crypto';
import { type ConnectionOptions, Queue, Worker } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { redisOutages } from '../../src/queues/redis.js';
import { createScheduleKeeper, type ScheduleKeeper } from '../../src/queues/schedule-keeper.js';
import { testConfig } from '../helpers/app.js';
import { capturingLogger } from '../helpers/logs.js';
import { eventually } from '../helpers/service.js';

/**
 * The schedule keeper over real Redis, with schedules of the test's own on a queue under a prefix of its
 * own, and a worker whose jobs the test lets run or holds.
 */
describe('the schedule keeper', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setUp(schedules: Array<{ name: string; every: number }>) {
    const prefix = `test-keeper-${randomBytes(4).toString('hex')}`;
    const redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
    const connection = redis as unknown as ConnectionOptions;
    const queue = new Queue('maintenance', { connection, prefix });
    const { logger, logs } = capturingLogger('info');
    const metrics = createMetrics({ defaultMetrics: false });
    const failing = new Set<string>();
    const worker = new Worker(
      'maintenance',
      async (job) => {
        if (failing.has(job.name)) throw new Error('the sweep failed');
      },
      { connection, prefix, concurrency: 2 },
    );
    worker.on('error', () => undefined);
    const keeper = createScheduleKeeper({
      schedules: schedules.map((schedule) => ({ ...schedule, queue })),
      redis,
      prefix,
      log: logger,
      outages: redisOutages(inject('redisUrl'), logger),
      metrics,
      checkIntervalMs: 200,
      minStallMs: 1500,
    });
    keeper.watch(worker);
    keeper.start();
    cleanups.push(async () => {
      keeper.close();
      await worker.close();
      await queue.obliterate({ force: true });
      await queue.close();
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    });
    return { prefix, redis, queue, keeper, logs, metrics, failing };
  }

  async function readinessOf(keeper: ScheduleKeeper): Promise<FastifyInstance> {
    const config = testConfig({ ROLE: 'worker' });
    const app = await buildApp({
      config,
      logger: capturingLogger('silent').logger,
      readinessChecks: { ...keeper.readinessChecks },
    });
    cleanups.push(() => app.close());
    return app;
  }

  const counted = async (metrics: ReturnType<typeof createMetrics>, schedule: string, reason: string) =>
    (await metrics.schedulesRedeclared.get()).values.find(
      (value) => value.labels.schedule === schedule && value.labels.reason === reason,
    )?.value ?? 0;

  it('records when each schedule last completed, where every worker can read it', async () => {
    const { prefix, redis } = await setUp([{ name: 'sweep-fast', every: 200 }]);
    const recorded = await eventually(async () =>
      Number(await redis.hget(`${prefix}:schedule-runs`, 'sweep-fast')),
    );
    expect(recorded).toBeGreaterThan(Date.now() - 10_000);
  });

  it('declares again, as stalled, a schedule whose next run was lost while the schedule itself stayed', {
    timeout: 30_000,
  }, async () => {
    const { prefix, redis, queue, logs, metrics } = await setUp([{ name: 'sweep-evicted', every: 500 }]);
    await eventually(async () => redis.hexists(`${prefix}:schedule-runs`, 'sweep-evicted'));
    // The next run's job evicted alone, as a worker dying between taking a run and adding the next does.
    const lost = await eventually(async () => {
      const next = (await queue.getJobScheduler('sweep-evicted'))?.next;
      const jobId = `repeat:sweep-evicted:${next}`;
      const removed = await redis.zrem(`${prefix}:maintenance:delayed`, jobId);
      if (removed === 0) return undefined;
      await redis.del(`${prefix}:maintenance:${jobId}`);
      return Date.now();
    });
    expect(lost).toBeDefined();
    expect(await queue.getJobScheduler('sweep-evicted')).toBeDefined();

    const redeclared = await eventually(
      async () => (await counted(metrics, 'sweep-evicted', 'stalled')) > 0,
      15_000,
    );
    expect(redeclared).toBe(true);
    expect(logs()).toContain('a schedule has not run in time; declared it again');
    expect(await counted(metrics, 'sweep-evicted', 'missing')).toBe(0);
    const ranAgain = await eventually(
      async () => Number(await redis.hget(`${prefix}:schedule-runs`, 'sweep-evicted')) > lost!,
      10_000,
    );
    expect(ranAgain).toBe(true);
  });

  it('answers /readyz 503 naming the schedule that stopped running, and 200 once it runs again', {
    timeout: 30_000,
  }, async () => {
    const { keeper, failing, metrics } = await setUp([
      { name: 'sweep-running', every: 200 },
      { name: 'sweep-stuck', every: 200 },
    ]);
    // Every run of it fails: it is declared and taken, but never completes.
    failing.add('sweep-stuck');
    const app = await readinessOf(keeper);
    const readiness = async () => {
      const response = await app.inject({ method: 'GET', url: '/readyz' });
      return { status: response.statusCode, body: response.json() as { checks: Record<string, string> } };
    };

    const stalled = await eventually(async () => {
      const answer = await readiness();
      return answer.status === 503 ? answer : undefined;
    }, 15_000);
    expect(stalled).toEqual({
      status: 503,
      body: { status: 'unavailable', checks: { 'sweep-running': 'ok', 'sweep-stuck': 'unavailable' } },
    });
    const since = (await metrics.scheduleSinceRun.get()).values.find(
      (value) => value.labels.schedule === 'sweep-stuck',
    );
    expect(since?.value).toBeGreaterThanOrEqual(1);
    expect((await metrics.scheduleStalledAfter.get()).values).toContainEqual(
      expect.objectContaining({ labels: { schedule: 'sweep-stuck' }, value: 1.5 }),
    );

    failing.delete('sweep-stuck');
    const ready = await eventually(async () => (await readiness()).status === 200, 15_000);
    expect(ready).toBe(true);
  });
});
