import { randomBytes } from 'node:crypto';
import { type ConnectionOptions, type Job, Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { catalog, QUEUES } from '../../src/queues/catalog.js';
import { redisOutages } from '../../src/queues/redis.js';
import { createCatalogWorker } from '../../src/queues/worker.js';
import { capturingLogger } from '../helpers/logs.js';

/** A catalog worker on real Redis, under a prefix of its own, with handlers that record what they got. */
describe('the catalog worker', () => {
  const prefix = `test-queues-${randomBytes(4).toString('hex')}`;
  const redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
  const connection = redis as unknown as ConnectionOptions;
  const { logger, logs } = capturingLogger('info');
  const handled: Array<{ jobId: string; bindings: Record<string, unknown>; finalAttempt: boolean }> = [];
  const queue = new Queue(QUEUES.statusChecks, { connection, prefix });
  const events = new QueueEvents(QUEUES.statusChecks, { connection, prefix });
  const worker = createCatalogWorker(
    QUEUES.statusChecks,
    {
      checkStatus: async ({ jobId }, { log, finalAttempt }) => {
        handled.push({ jobId, bindings: (log as unknown as Logger).bindings(), finalAttempt });
        if (jobId === 'always-fails') throw new Error('Smile ID is down');
        log.info('checked');
        return 'applied';
      },
    },
    { connection, prefix, log: logger, outages: redisOutages(inject('redisUrl'), logger), concurrency: 1 },
  );

  beforeAll(async () => {
    await Promise.all([worker.waitUntilReady(), events.waitUntilReady()]);
  });
  afterAll(async () => {
    await worker.close();
    await events.close();
    await queue.obliterate({ force: true });
    await queue.close();
    redis.disconnect();
  });

  /** Adds a job with three attempts and waits for how it ended. */
  async function run(name: string, data: unknown): Promise<{ job: Job; outcome: 'completed' | 'failed' }> {
    const job = await queue.add(name, data, { attempts: 3, backoff: { type: 'fixed', delay: 10 } });
    const outcome = await job.waitUntilFinished(events, 10_000).then(
      () => 'completed' as const,
      () => 'failed' as const,
    );
    return { job: (await queue.getJob(job.id!))!, outcome };
  }

  it("runs a job through its entry's handler, with a child logger naming queue, job and id", async () => {
    const { job, outcome } = await run(catalog.checkStatus.name, { jobId: 'job-1' });
    expect(outcome).toBe('completed');
    expect(job.returnvalue).toBe('applied');
    expect(handled.at(-1)).toMatchObject({
      jobId: 'job-1',
      bindings: { queue: 'status-checks', job: 'check-status', queuedJobId: job.id },
    });
    expect(logs()).toContain('"msg":"checked"');
  });

  it('fails a job whose name the catalog does not know at once, as unrecoverable, running nothing', async () => {
    const before = handled.length;
    const { job, outcome } = await run('sweep-everything', { jobId: 'job-2' });
    expect(outcome).toBe('failed');
    expect(job.attemptsMade).toBe(1);
    expect(job.failedReason).toContain('has no job named "sweep-everything"');
    expect(handled.length).toBe(before);
  });

  it('fails a job whose data its schema refuses at once, as unrecoverable, without retrying', async () => {
    const before = handled.length;
    const { job, outcome } = await run(catalog.checkStatus.name, { jobId: 'job-3', idNumber: '12345678' });
    expect(outcome).toBe('failed');
    expect(job.attemptsMade).toBe(1);
    expect(job.failedReason).toContain('invalid data for check-status');
    expect(job.failedReason).not.toContain('12345678');
    expect(handled.length).toBe(before);
  });

  it('tells the handler which attempt is the last, and logs each failed attempt naming its queued job', async () => {
    const { job, outcome } = await run(catalog.checkStatus.name, { jobId: 'always-fails' });
    expect(outcome).toBe('failed');
    expect(
      handled.filter((entry) => entry.jobId === 'always-fails').map((entry) => entry.finalAttempt),
    ).toEqual([false, false, true]);
    const failuresLogged = () =>
      logs()
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line))
        .filter((line) => line.msg === 'queued job failed' && line.queuedJobId === job.id);
    // The worker logs its last failure on its own 'failed' event, which may come after the queue's.
    for (const deadline = Date.now() + 5000; failuresLogged().length < 3 && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const failures = failuresLogged();
    expect(failures).toHaveLength(3);
    expect(failures[0]).toMatchObject({ queue: 'status-checks', job: 'check-status' });
  });
});
