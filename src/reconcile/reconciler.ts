import { type ConnectionOptions, Queue, type Worker } from 'bullmq';
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { Cursors } from '../api/cursor.js';
import type { PollModel } from '../domain/poll-schedule.js';
import { createDelivery } from '../notify/deliver.js';
import { enqueueDeliveries } from '../notify/enqueue.js';
import { draftDeliveries } from '../notify/messages.js';
import { createNotificationSweep } from '../notify/sweep.js';
import type { Metrics } from '../observability/metrics.js';
import { catalog, QUEUE_NAMES, type QueueName, queueJobOptions, splitBudget } from '../queues/catalog.js';
import { createScheduleKeeper, type Schedule } from '../queues/schedule-keeper.js';
import { createCatalogWorker } from '../queues/worker.js';
import type { JobStatusClient } from '../smileid/job-status-client.js';
import type { StatusStore } from '../store/evidence/status-store.js';
import type { ChangeFeed } from '../store/feed/change-feed.js';
import { purgeExpired } from '../store/identity/identity-maintenance.js';
import type { DueChecks } from '../store/jobs/due-checks.js';
import type { SubmissionStore } from '../store/submissions/submission-store.js';
import type { WebhookStore } from '../store/webhooks/webhook-store.js';
import type { SubmissionRetries } from '../submit/enqueue.js';
import type { SubmitJob } from '../submit/submit-job.js';
import { createSubmissionSweep } from '../submit/sweep.js';
import { createStatusCheck } from './check-status.js';
import { createSweeper } from './sweeper.js';

/** Submissions are queued at once by the API; the sweep only finds those whose queued job was lost. */
const SUBMISSION_SWEEP_INTERVAL_MS = 10_000;

/** New changes become webhook deliveries within this long (plus the delivery itself). */
const NOTIFICATION_SWEEP_INTERVAL_MS = 500;

/** BullMQ's lock on a delivery in flight, renewed at half this while its worker lives. */
const DELIVERY_LOCK_MS = 5000;

/**
 * BullMQ's lock on a submission in flight, renewed every 5 s while its worker lives, and how often a
 * lapsed lock is looked for: a worker that dies mid-upload has its attempt resumed 10–15 s later, not
 * the 30–60 s of BullMQ's defaults. Not shorter: a live worker whose lock lapsed (an event loop held
 * past the lock) would see its attempt started again beside it, and both could send the zip.
 */
const SUBMISSION_LOCK_MS = 10_000;
const SUBMISSION_STALLED_CHECK_MS = 5000;

/** The rest of a retention backlog waits for the next run. */
const PURGE_BATCHES_PER_RUN = 20;

export interface ReconcilerOptions {
  pool: pg.Pool;
  store: StatusStore;
  dueChecks: DueChecks;
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
  pollModel: PollModel;
  sweepIntervalMs: number;
  batchSize: number;
  retention: { days: number; batchSize: number; intervalMs: number };
  /** Submissions: their own queue and concurrency; their calls take their place in the one budget. */
  submissions: {
    store: Pick<SubmissionStore, 'claimDue'>;
    /** Null when no PUBLIC_CALLBACK_URL is configured: queued submissions wait for one. */
    submit: Pick<SubmitJob, 'run'> | null;
    retries: SubmissionRetries;
    concurrency: number;
  };
  /** Webhooks to internal endpoints: their own queue, made from the change feed. */
  notifications: {
    store: WebhookStore;
    changeFeed: Pick<ChangeFeed, 'purge'>;
    /** Signs the feed cursor each message carries, as GET /v1/changes issues it. */
    cursors: Pick<Cursors, 'change'>;
    urls: readonly string[];
    secrets: ReadonlyMap<string, string>;
    timeoutMs: number;
    retryDelayMs: number;
    retryWindowMs: number;
    /** Deliveries in flight per endpoint (NOTIFY_CONCURRENCY). */
    concurrency: number;
  };
  log: FastifyBaseLogger;
  now?: () => Date;
  metrics?: Metrics | undefined;
  /** How often the schedules are looked at, and how long one may go without a run (tests shorten both). */
  scheduleKeeper?: { checkIntervalMs?: number; minStallMs?: number };
}

/**
 * The worker side: a sweeper on a BullMQ job scheduler that enqueues due checks, and workers that run
 * them under a Redis-wide rate limit. Postgres holds when each job is due, so Redis can be lost and
 * rebuilt: the schedules are declared again whenever Redis (re)connects, and whenever the schedule keeper
 * finds one missing or stalled (queues/schedule-keeper.ts).
 */
export function createReconciler(options: ReconcilerOptions) {
  const { log } = options;
  const now = options.now ?? (() => new Date());
  const connection = options.connection as unknown as ConnectionOptions;
  const queueOptions = { connection, prefix: options.prefix };
  const queueOf = (name: QueueName) => {
    const queue = new Queue(name, { ...queueOptions, defaultJobOptions: queueJobOptions(name, options) });
    queue.on('error', (error) => log.warn({ err: error, queue: name }, 'queue error'));
    return queue;
  };
  const checks = queueOf(QUEUE_NAMES.statusChecks);
  const untrustedChecks = queueOf(QUEUE_NAMES.untrustedChecks);
  const submissions = queueOf(QUEUE_NAMES.submissions);
  const maintenance = queueOf(QUEUE_NAMES.maintenance);
  const notificationQueue = queueOf(QUEUE_NAMES.notifications);
  const queueByName: Record<QueueName, Queue> = {
    [QUEUE_NAMES.statusChecks]: checks,
    [QUEUE_NAMES.untrustedChecks]: untrustedChecks,
    [QUEUE_NAMES.submissions]: submissions,
    [QUEUE_NAMES.maintenance]: maintenance,
    [QUEUE_NAMES.notifications]: notificationQueue,
  };
  const budget = splitBudget(options.ratePerSecond, options.untrustedShare);

  const sweeper = createSweeper({
    dueChecks: options.dueChecks,
    checks,
    untrustedChecks,
    untrustedPerSweep: Math.max(1, Math.ceil((budget.untrusted * options.sweepIntervalMs) / 1000)),
    batchSize: options.batchSize,
    now,
  });
  const sweepSubmissions = createSubmissionSweep({
    store: options.submissions.store,
    queue: submissions,
    retries: options.submissions.retries,
    batchSize: options.batchSize,
    now,
  });
  const { notifications } = options;
  const delivery = createDelivery({
    store: notifications.store,
    secrets: notifications.secrets,
    timeoutMs: notifications.timeoutMs,
    retryDelayMs: notifications.retryDelayMs,
    retryWindowMs: notifications.retryWindowMs,
    perEndpoint: notifications.concurrency,
    enqueue: (deliveryIds) => enqueueDeliveries(notificationQueue, deliveryIds),
    log,
    now,
    metrics: options.metrics,
  });
  const sweepNotifications = createNotificationSweep({
    store: notifications.store,
    urls: notifications.urls,
    enqueue: (deliveryIds) => enqueueDeliveries(notificationQueue, deliveryIds),
    batchSize: options.batchSize,
    perEndpoint: notifications.concurrency,
    now,
    draft: (changes) => draftDeliveries(changes, notifications.cursors),
  });
  const statusCheck = createStatusCheck({
    store: options.store,
    client: options.client,
    log,
    pollModel: options.pollModel,
    now,
    metrics: options.metrics,
  });

  const purge = async () => {
    const before = new Date(now().getTime() - options.retention.days * 86_400_000);
    // Bounded per run: the maintenance queue also runs the sweep, which must not wait behind a backlog.
    const purged = await purgeExpired(
      options.pool,
      before,
      options.retention.batchSize,
      PURGE_BATCHES_PER_RUN,
    );
    if (purged.jobs + purged.callbackEvents + purged.statusSnapshots + purged.submissions > 0) {
      log.info({ ...purged, before }, 'retention purged identity data');
    }
    const changes = await notifications.changeFeed.purge(before, options.retention.batchSize, now());
    if (changes > 0) log.info({ changes, before }, 'retention purged the change feed');
    return { ...purged, changes };
  };

  const schedules: Schedule[] = [
    { entry: catalog.sweepDueChecks, every: options.sweepIntervalMs },
    { entry: catalog.sweepDueSubmissions, every: SUBMISSION_SWEEP_INTERVAL_MS },
    ...(notifications.urls.length > 0
      ? [{ entry: catalog.sweepNotifications, every: NOTIFICATION_SWEEP_INTERVAL_MS }]
      : []),
    { entry: catalog.purgeExpiredIdentityData, every: options.retention.intervalMs },
  ].map(({ entry, every }) => ({ queue: queueByName[entry.queue], name: entry.name, every }));
  const keeper = createScheduleKeeper({
    schedules,
    redis: options.connection,
    prefix: options.prefix,
    log,
    metrics: options.metrics,
    ...options.scheduleKeeper,
  });

  const workers: Worker[] = [];
  function start() {
    const common = { connection, prefix: options.prefix, log };
    workers.push(
      createCatalogWorker(
        QUEUE_NAMES.statusChecks,
        {
          checkStatus: ({ jobId, queuedAt }, { log, finalAttempt }) =>
            statusCheck.run(jobId, { log, queuedAt, finalAttempt }),
        },
        { ...common, concurrency: options.concurrency, limiter: { max: budget.checks, duration: 1000 } },
      ),
      createCatalogWorker(
        QUEUE_NAMES.submissions,
        {
          submitJob: async ({ jobId }, { log }) => {
            const { submit } = options.submissions;
            if (submit) return submit.run(jobId, { log });
            log.warn({ jobId }, 'a submission waits: set PUBLIC_CALLBACK_URL so Smile ID can answer it');
            return 'not_configured';
          },
        },
        {
          ...common,
          concurrency: options.submissions.concurrency,
          lockDuration: SUBMISSION_LOCK_MS,
          stalledInterval: SUBMISSION_STALLED_CHECK_MS,
        },
      ),
      createCatalogWorker(
        QUEUE_NAMES.untrustedChecks,
        { checkUntrusted: ({ jobId }, { log }) => statusCheck.run(jobId, { untrusted: true, log }) },
        { ...common, concurrency: budget.untrusted, limiter: { max: budget.untrusted, duration: 1000 } },
      ),
      createCatalogWorker(
        QUEUE_NAMES.notifications,
        {
          deliverNotification: ({ deliveryId }, { checkpoint }) =>
            delivery.run(deliveryId, (next) => checkpoint({ deliveryId: next })),
        },
        {
          ...common,
          // Room for every endpoint's share at once: the sweep hands out at most `concurrency` deliveries
          // of an endpoint, so however slow one endpoint is, it never holds a slot another one needs.
          concurrency: notifications.concurrency * Math.max(1, notifications.urls.length),
          // Renewed while a delivery runs: a worker that died mid-delivery gives it back within seconds.
          lockDuration: DELIVERY_LOCK_MS,
          stalledInterval: DELIVERY_LOCK_MS,
        },
      ),
      createCatalogWorker(
        QUEUE_NAMES.maintenance,
        {
          sweepDueChecks: () => sweeper.sweep(),
          sweepDueSubmissions: () => sweepSubmissions(),
          sweepNotifications: () => sweepNotifications(),
          purgeExpiredIdentityData: () => purge(),
        },
        { ...common, concurrency: 1 },
      ),
    );
    for (const worker of workers) keeper.watch(worker);
    keeper.start();
  }

  /** Stops taking work and waits for checks in flight; what is still queued stays in Redis or Postgres. */
  async function close() {
    keeper.close();
    await Promise.all(workers.map((worker) => worker.close()));
    await Promise.all([
      checks.close(),
      untrustedChecks.close(),
      submissions.close(),
      maintenance.close(),
      notificationQueue.close(),
    ]);
  }

  return {
    start,
    close,
    checks,
    untrustedChecks,
    submissions,
    maintenance,
    notificationQueue,
    sweep: sweeper.sweep,
    sweepNotifications,
    sweepSubmissions,
    purge,
    /** One per schedule, named after it: fails while the schedule has not run in time. */
    readinessChecks: keeper.readinessChecks,
  };
}

export type Reconciler = ReturnType<typeof createReconciler>;
