import { type ConnectionOptions, Queue, Worker } from 'bullmq';
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { Metrics } from '../observability/metrics.js';
import { catalog, checkJobOptions, QUEUE_NAMES, splitBudget } from '../queues/catalog.js';
import type { JobStatusClient } from '../smileid/job-status-client.js';
import { purgeExpired } from '../store/identity-maintenance.js';
import type { StatusStore } from '../store/status-store.js';
import { createStatusCheck } from './check-status.js';
import { createSweeper } from './sweeper.js';

/** The rest of a retention backlog waits for the next run. */
const PURGE_BATCHES_PER_RUN = 20;

export interface ReconcilerOptions {
  pool: pg.Pool;
  store: StatusStore;
  client: JobStatusClient;
  /** A connection with `maxRetriesPerRequest: null`: workers wait for Redis rather than fail. */
  connection: Redis;
  prefix: string;
  concurrency: number;
  ratePerSecond: number;
  /** Share of `ratePerSecond` that untrusted bodies' checks may use (see splitBudget). */
  untrustedShare: number;
  attempts: number;
  retryDelayMs: number;
  sweepIntervalMs: number;
  batchSize: number;
  retention: { days: number; batchSize: number; intervalMs: number };
  log: FastifyBaseLogger;
  now?: () => Date;
  metrics?: Metrics;
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
  const untrustedChecks = new Queue(QUEUE_NAMES.untrustedChecks, {
    ...queueOptions,
    // One look, no retries: a body that could not be trusted is not worth more of the budget.
    defaultJobOptions: { attempts: 1, removeOnComplete: true, removeOnFail: true },
  });
  const budget = splitBudget(options.ratePerSecond, options.untrustedShare);
  const maintenance = new Queue(QUEUE_NAMES.maintenance, {
    ...queueOptions,
    defaultJobOptions: { removeOnComplete: true, removeOnFail: true },
  });
  for (const queue of [checks, untrustedChecks, maintenance]) {
    queue.on('error', (error) => options.log.warn({ err: error, queue: queue.name }, 'queue error'));
  }
  const sweeper = createSweeper({
    pool: options.pool,
    checks,
    untrustedChecks,
    untrustedPerSweep: Math.max(1, Math.ceil((budget.untrusted * options.sweepIntervalMs) / 1000)),
    batchSize: options.batchSize,
    now: options.now,
  });
  const statusCheck = createStatusCheck({
    store: options.store,
    client: options.client,
    log: options.log,
    now: options.now,
    metrics: options.metrics,
  });

  const now = options.now ?? (() => new Date());
  const purge = async () => {
    const before = new Date(now().getTime() - options.retention.days * 86_400_000);
    // Bounded per run: the maintenance queue also runs the sweep, which must not wait behind a backlog.
    const purged = await purgeExpired(
      options.pool,
      before,
      options.retention.batchSize,
      PURGE_BATCHES_PER_RUN,
    );
    if (purged.jobs + purged.callbackEvents + purged.statusSnapshots > 0) {
      options.log.info({ ...purged, before }, 'retention purged identity data');
    }
    return purged;
  };

  const workers: Worker[] = [];
  const schedules = [
    { job: catalog.sweepDueChecks, every: options.sweepIntervalMs },
    { job: catalog.purgeExpiredIdentityData, every: options.retention.intervalMs },
  ];
  const declareSchedule = () =>
    Promise.all(
      schedules.map(({ job, every }) =>
        maintenance.upsertJobScheduler(job.name, { every }, { name: job.name, data: {} }),
      ),
    ).catch((error: unknown) =>
      options.log.warn({ err: error }, 'could not declare the schedules; will retry'),
    );

  function start() {
    workers.push(
      new Worker(
        QUEUE_NAMES.statusChecks,
        async (job) => statusCheck.run(catalog.checkStatus.data.parse(job.data).jobId),
        {
          ...queueOptions,
          concurrency: options.concurrency,
          limiter: { max: budget.checks, duration: 1000 },
        },
      ),
      new Worker(
        QUEUE_NAMES.untrustedChecks,
        async (job) =>
          statusCheck.run(catalog.checkUntrusted.data.parse(job.data).jobId, { untrusted: true }),
        {
          ...queueOptions,
          concurrency: budget.untrusted,
          limiter: { max: budget.untrusted, duration: 1000 },
        },
      ),
      new Worker(
        QUEUE_NAMES.maintenance,
        async (job) => {
          if (job.name === catalog.purgeExpiredIdentityData.name) {
            catalog.purgeExpiredIdentityData.data.parse(job.data);
            return purge();
          }
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
    await Promise.all([checks.close(), untrustedChecks.close(), maintenance.close()]);
  }

  return { start, close, checks, untrustedChecks, maintenance, sweep: sweeper.sweep, purge };
}

export type Reconciler = ReturnType<typeof createReconciler>;
