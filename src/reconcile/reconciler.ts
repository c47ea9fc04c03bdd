import { type ConnectionOptions, Queue, Worker } from 'bullmq';
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { StatusStore } from '../jobs/status-store.js';
import type { JobStatusClient } from '../smileid/job-status-client.js';
import { catalog, checkJobOptions, QUEUE_NAMES } from './catalog.js';
import { type CheckOutcome, createStatusCheck } from './check-status.js';
import { createSweeper } from './sweeper.js';

export interface ReconcilerOptions {
  pool: pg.Pool;
  store: StatusStore;
  client: JobStatusClient;
  /** A connection with `maxRetriesPerRequest: null`: workers wait for Redis rather than fail. */
  connection: Redis;
  prefix: string;
  concurrency: number;
  ratePerSecond: number;
  attempts: number;
  retryDelayMs: number;
  sweepIntervalMs: number;
  batchSize: number;
  log: FastifyBaseLogger;
  now?: () => Date;
  onCheck?: (outcome: CheckOutcome | 'retry', code?: string) => void;
}

/**
 * The worker side: a sweeper on a BullMQ job scheduler that enqueues due checks, and a worker that runs
 * them under a Redis-wide rate limit. Postgres holds when each job is due, so Redis can be lost and
 * rebuilt: the scheduler is re-declared whenever Redis (re)connects.
 */
export function createReconciler(options: ReconcilerOptions) {
  const connection = options.connection as unknown as ConnectionOptions;
  const queueOptions = { connection, prefix: options.prefix };
  const checks = new Queue(QUEUE_NAMES.statusChecks, {
    ...queueOptions,
    defaultJobOptions: checkJobOptions(options),
  });
  const maintenance = new Queue(QUEUE_NAMES.maintenance, {
    ...queueOptions,
    defaultJobOptions: { removeOnComplete: true, removeOnFail: true },
  });
  for (const queue of [checks, maintenance]) {
    queue.on('error', (error) => options.log.warn({ err: error, queue: queue.name }, 'queue error'));
  }
  const sweeper = createSweeper({
    pool: options.pool,
    checks,
    batchSize: options.batchSize,
    now: options.now,
  });
  const statusCheck = createStatusCheck({
    store: options.store,
    client: options.client,
    log: options.log,
    now: options.now,
    onOutcome: options.onCheck,
  });

  const workers: Worker[] = [];
  const declareSchedule = () =>
    maintenance
      .upsertJobScheduler(
        catalog.sweepDueChecks.name,
        { every: options.sweepIntervalMs },
        { name: catalog.sweepDueChecks.name, data: {} },
      )
      .catch((error: unknown) =>
        options.log.warn({ err: error }, 'could not declare the sweep schedule; will retry'),
      );

  function start() {
    workers.push(
      new Worker(
        QUEUE_NAMES.statusChecks,
        async (job) => statusCheck.run(catalog.checkStatus.data.parse(job.data).jobId),
        {
          ...queueOptions,
          concurrency: options.concurrency,
          limiter: { max: options.ratePerSecond, duration: 1000 },
        },
      ),
      new Worker(
        QUEUE_NAMES.maintenance,
        async (job) => {
          catalog.sweepDueChecks.data.parse(job.data);
          return sweeper.sweep();
        },
        { ...queueOptions, concurrency: 1 },
      ),
    );
    for (const worker of workers) {
      worker.on('error', (error) => options.log.warn({ err: error, queue: worker.name }, 'worker error'));
      worker.on('failed', (job, error) =>
        options.log.warn({ queue: worker.name, attempt: job?.attemptsMade, err: error }, 'queued job failed'),
      );
    }
    options.connection.on('ready', declareSchedule);
    if (options.connection.status === 'ready') void declareSchedule();
  }

  /** Stops taking work and waits for checks in flight; what is still queued stays in Redis or Postgres. */
  async function close() {
    options.connection.off('ready', declareSchedule);
    await Promise.all(workers.map((worker) => worker.close()));
    await Promise.all([checks.close(), maintenance.close()]);
  }

  return { start, close, checks, sweep: sweeper.sweep };
}

export type Reconciler = ReturnType<typeof createReconciler>;
