import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createJobRegistration } from '../../src/api/register-job.js';
import { DEFAULT_POLL_MODEL } from '../../src/domain/poll-schedule.js';
import { simulatedJob } from '../../src/simulator/callbacks.js';
import { createRegistrationStore } from '../../src/store/jobs/registrations.js';
import { TEST_API_KEY, TEST_PARTNER_ID } from '../helpers/app.js';
import { testDatabase } from '../helpers/database.js';
import { type ServiceProcess, spawnService, waitForOutput } from '../helpers/processes.js';
import { eventually, startSimulator, type TestSimulator } from '../helpers/service.js';
import { DEFAULT_POLICY } from '../helpers/status.js';

describe('several worker processes on one queue', () => {
  let sim: TestSimulator;
  let pool: pg.Pool;
  let workers: ServiceProcess[] = [];
  beforeAll(async () => {
    sim = await startSimulator();
    pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 3 });
  });
  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.stop('SIGKILL')));
    await pool.end();
    await sim.close();
  });

  it('never poll one job concurrently, and a SIGTERM hands back work without losing any', async () => {
    const env = {
      ROLE: 'worker',
      DATABASE_URL: inject('databaseUrl'),
      REDIS_URL: inject('redisUrl'),
      REDIS_PREFIX: `test-${randomBytes(4).toString('hex')}`,
      SMILE_API_BASE_URL: `${sim.url}/v1`,
      SMILE_PARTNER_ID: TEST_PARTNER_ID,
      SMILE_API_KEYS: TEST_API_KEY,
      RECONCILE_SWEEP_INTERVAL_MS: '100',
      RECONCILE_CONCURRENCY: '8',
      SMILE_API_RATE_LIMIT_PER_SECOND: '1000',
      LOG_LEVEL: 'info',
    };
    workers = [spawnService(env), spawnService(env), spawnService(env)];
    // Three processes loading TypeScript at once on a shared machine: a minute catches a start that hangs.
    await Promise.all(workers.map((worker) => waitForOutput(worker, 'service started', 60_000)));

    // Each call takes 150 ms, so overlapping polls of one job would be seen by the simulator.
    await sim.control('/faults', { latencyMs: 150 });
    const jobs = Array.from({ length: 30 }, () => simulatedJob());
    for (const job of jobs) {
      await sim.control('/jobs', {
        jobId: job.jobId,
        userId: job.userId,
        life: 'review',
        reviewDelayMs: 2500,
      });
    }
    const db = testDatabase(inject('databaseUrl'));
    const registrations = createJobRegistration({
      store: createRegistrationStore({ prisma: db.prisma }),
      pollModel: { ...DEFAULT_POLL_MODEL, horizonMs: 3_600_000 },
      policy: DEFAULT_POLICY,
    });
    const now = new Date();
    for (const job of jobs) await registrations.register({ jobId: job.jobId, userId: job.userId }, now);
    await db.close();

    // Keep every job due all the time, as if sweepers and operators asked for it over and over. One
    // statement at a time: two of these bulk updates overlapping would deadlock each other, not the workers.
    const jobIds = jobs.map((job) => job.jobId);
    let hammering = true;
    const hammer = (async () => {
      while (hammering) {
        await pool.query(
          'UPDATE jobs SET next_check_at = now() WHERE job_id = ANY($1) AND NOT (is_final AND confirmed)',
          [jobIds],
        );
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    try {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const stopping = workers[0]!;
      const exitCode = await stopping.stop('SIGTERM');
      expect(exitCode).toBe(0);
      expect(stopping.output()).toContain('stopped');

      const confirmed = await eventually(async () => {
        const { rows } = await pool.query<{ count: number }>(
          'SELECT count(*)::int AS count FROM jobs WHERE job_id = ANY($1) AND is_final AND confirmed',
          [jobIds],
        );
        return rows[0]!.count === jobs.length;
      }, 30_000);
      expect(confirmed).toBe(true);
    } finally {
      hammering = false;
      await hammer;
    }

    const stats = (await sim.control('/stats')) as { totalCalls: number; maxConcurrentForAnyJob: number };
    expect(stats.totalCalls).toBeGreaterThan(jobs.length);
    expect(stats.maxConcurrentForAnyJob).toBe(1);
    const { rows } = await pool.query(
      "SELECT count(*)::int AS n FROM jobs WHERE job_id = ANY($1) AND state = 'approved'",
      [jobIds],
    );
    expect(rows[0].n).toBe(jobs.length);
  }, 150_000);
});
