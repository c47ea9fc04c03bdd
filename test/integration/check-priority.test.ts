import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEFAULT_POLL_MODEL } from '../../src/domain/poll-schedule.js';
import { catalog, QUEUES } from '../../src/queues/catalog.js';
import { createProducer } from '../../src/queues/producer.js';
import { redisOutages } from '../../src/queues/redis.js';
import { createStatusCheck } from '../../src/reconcile/check-status.js';
import { createSweeper } from '../../src/reconcile/sweeper.js';
import { createStatusStore } from '../../src/store/evidence/status-store.js';
import { createDueChecks } from '../../src/store/jobs/due-checks.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { DEFAULT_POLICY, silentLogger } from '../helpers/status.js';

const RETRIES = { attempts: 3, retryDelayMs: 100 };

/** Under a binding budget, confirmations of fresh callbacks run first and blind polls never hold them back. */
describe('the order of due checks', () => {
  let app: TestApp;
  const redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
  const prefix = `test-priority-${randomBytes(4).toString('hex')}`;
  const producer = createProducer({
    connection: redis,
    prefix,
    settings: { checks: RETRIES, submissions: RETRIES },
    outages: redisOutages(inject('redisUrl'), silentLogger),
    open: [QUEUES.statusChecks],
  });
  const checks = producer.queue(QUEUES.statusChecks);

  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(async () => {
    await checks.obliterate({ force: true });
    await producer.close();
    redis.disconnect();
    await app.close();
  });

  /** A registered job due now: `callbackSinceCheck` says whether a callback arrived after its last check. */
  async function dueJob(callbackSinceCheck: boolean, overdueMs: number) {
    const jobId = `job-${randomUUID()}`;
    const now = Date.now();
    await app.db.pool.query(
      `INSERT INTO jobs (job_id, user_id, created_at, updated_at, version, last_checked_at, last_event_at, next_check_at)
       VALUES ($1, 'u', $2, $2, 1, $3, $4, $5)`,
      [
        jobId,
        new Date(now - 3_600_000),
        new Date(now - 600_000),
        callbackSinceCheck ? new Date(now - 1000) : null,
        new Date(now - overdueMs),
      ],
    );
    return jobId;
  }

  it('queues confirmations with their own id and no priority, blind polls by lateness', async () => {
    const confirm = await dueJob(true, 100);
    const late = await dueJob(false, 1_200_000);
    const onTime = await dueJob(false, 1000);
    // Only the jobs of this test: their due times are far from every other test's.
    const sweeper = createSweeper({
      dueChecks: createDueChecks({ pool: app.db.pool }),
      producer,
      untrustedPerSweep: 0,
      batchSize: 1000,
    });
    await sweeper.sweep();
    const queued = await Promise.all(
      [
        [confirm, 'confirm'],
        [late, 'check'],
        [onTime, 'check'],
      ].map(([jobId, kind]) =>
        checks.getJob(catalog.checkStatus.jobId({ jobId: jobId! }, { confirms: kind === 'confirm' })),
      ),
    );
    const [confirmation, lateCheck, onTimeCheck] = queued;
    expect(confirmation?.opts.priority ?? 0).toBe(0);
    expect(lateCheck?.opts.priority).toBeGreaterThanOrEqual(2);
    expect(onTimeCheck!.opts.priority!).toBeGreaterThan(lateCheck!.opts.priority!);
    expect(confirmation?.data).toMatchObject({ jobId: confirm, queuedAt: expect.any(Number) });
  });

  it('asks nothing for a check queued before the job was last checked', async () => {
    const jobId = await dueJob(false, 1000);
    let calls = 0;
    const statusCheck = createStatusCheck({
      store: createStatusStore({ pool: app.db.pool, cipher: app.cipher, vault: app.storage.vault }),
      client: {
        fetchStatus: async () => {
          calls += 1;
          return { kind: 'failed', code: 'timeout', status: null, retryable: false };
        },
      },
      log: silentLogger,
      pollModel: DEFAULT_POLL_MODEL,
      policy: DEFAULT_POLICY,
    });
    const queuedAt = Date.now() - 60_000;
    await app.db.pool.query('UPDATE jobs SET last_checked_at = now() WHERE job_id = $1', [jobId]);
    expect(await statusCheck.run(jobId, { queuedAt })).toBe('already_checked');
    expect(calls).toBe(0);
    expect(await statusCheck.run(jobId, { queuedAt: Date.now() + 1000 })).toBe('rejected_request');
    expect(calls).toBe(1);
  });
});
