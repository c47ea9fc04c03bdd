import { once } from 'node:events';
import type { FastifyBaseLogger } from 'fastify';
import { createSubmissionIntake } from './api/accept-submission.js';
import { createBearerAuth } from './api/bearer-auth.js';
import { cursorsOf } from './api/cursor.js';
import { createLongPolls } from './api/long-polls.js';
import { createJobRegistration } from './api/register-job.js';
import type { AppDependencies, Services } from './app-dependencies.js';
import { createIntake } from './callbacks/intake.js';
import { type Config, objectStoreOf, pollModelOf, webhookSecretsOf } from './config.js';
import { maintenanceJobs } from './maintenance/jobs.js';
import { createBodyMover, createOrphanSweeper } from './maintenance/object-storage.js';
import { createRetentionPurge } from './maintenance/retention.js';
import { notifyJobs } from './notify/jobs.js';
import { createMetrics, type Metrics, objectStorageObserverOf } from './observability/metrics.js';
import { createCallBudget } from './queues/call-budget.js';
import { catalog, type JobSettings, type QueueName } from './queues/catalog.js';
import type { JobModule } from './queues/job-module.js';
import { createProducer, type Producer } from './queues/producer.js';
import { createFailFastRedis, createWorkerRedis, redisOutages } from './queues/redis.js';
import { createStatusCheck } from './reconcile/check-status.js';
import { reconcileJobs } from './reconcile/jobs.js';
import { createFieldCipher, type FieldCipher, parseKeyring } from './security/field-cipher.js';
import { createJobStatusClient, type JobStatusClient } from './smileid/job-status-client.js';
import { createUploadClient, type UploadClient } from './smileid/upload-client.js';
import { createDatabase, type Database, postgresOutages } from './store/connections.js';
import { createCallbackStore } from './store/evidence/callback-store.js';
import { createEventQueries } from './store/evidence/event-queries.js';
import { createStatusStore } from './store/evidence/status-store.js';
import { type ChangeSignal, createChangeFeed, createChangeSignal } from './store/feed/change-feed.js';
import { createAuditLog } from './store/identity/audit-log.js';
import { eraseUserIdentityData } from './store/identity/identity-maintenance.js';
import { createDueChecks } from './store/jobs/due-checks.js';
import { createGaugeQueries } from './store/jobs/job-gauges.js';
import { createJobQueries } from './store/jobs/job-queries.js';
import { createRegistrationStore } from './store/jobs/registrations.js';
import type { BodyVault } from './store/objects/body-vault.js';
import { createObjectStorage, type ObjectStorage } from './store/objects/object-storage.js';
import { createSubmissionStore } from './store/submissions/submission-store.js';
import { createWebhookStore } from './store/webhooks/webhook-store.js';
import { submitJobs } from './submit/jobs.js';
import { createSubmitJob } from './submit/submit-job.js';
import { withTimeout } from './util/with-timeout.js';
import { buildWorker } from './worker.js';

const ENQUEUE_TIMEOUT_MS = 1000;
/** Smile ID may redeliver a genuine callback late: give its own confirmation a moment to come first. */
const UNTRUSTED_CHECK_DELAY_MS = 2000;

/** A zip of several megabytes takes longer than a job_status answer. */
const UPLOAD_TIMEOUT_FLOOR_MS = 60_000;

export function uploadClientOf(config: Config, slot?: () => Promise<void>): UploadClient {
  return createUploadClient({
    baseUrl: config.SMILE_API_BASE_URL,
    partnerId: config.SMILE_PARTNER_ID,
    apiKeys: config.SMILE_API_KEYS,
    timeoutMs: Math.max(config.SMILE_API_TIMEOUT_MS, UPLOAD_TIMEOUT_FLOOR_MS),
    ...(slot ? { slot } : {}),
  });
}

/** What the catalog's job options depend on: a job is the same whichever process queues it. */
const jobSettingsOf = (config: Config): JobSettings => ({
  checks: { attempts: config.RECONCILE_CHECK_ATTEMPTS, retryDelayMs: config.RECONCILE_RETRY_DELAY_MS },
  submissions: { attempts: config.SUBMISSION_ATTEMPTS, retryDelayMs: config.SUBMISSION_RETRY_DELAY_MS },
});

/** The jobs the API queues: checks it is asked for, and submissions it accepted. */
const API_JOBS = [catalog.checkStatus, catalog.submitJob] as const;
type ApiQueue = (typeof API_JOBS)[number]['queue'];

export function jobStatusClientOf(config: Config, slot?: () => Promise<void>): JobStatusClient {
  return createJobStatusClient({
    baseUrl: config.SMILE_API_BASE_URL,
    partnerId: config.SMILE_PARTNER_ID,
    apiKeys: config.SMILE_API_KEYS,
    timeoutMs: config.SMILE_API_TIMEOUT_MS,
    ...(slot ? { slot } : {}),
  });
}

/** The stores both the HTTP side and the workers use: built once per process, over the one pool. */
export function sharedStoresOf(db: Pick<Database, 'pool'>, cipher: FieldCipher) {
  return {
    submissions: createSubmissionStore({ pool: db.pool, cipher }),
    webhooks: createWebhookStore({ pool: db.pool }),
    feed: createChangeFeed({ pool: db.pool }),
  };
}

export type SharedStores = ReturnType<typeof sharedStoresOf>;

/**
 * The HTTP side's services over open connections: flows, stores and the API's reads. Opens nothing,
 * so the tests can wire the real services over their own database.
 */
export function createServices({
  config,
  db,
  cipher,
  vault,
  stores = sharedStoresOf(db, cipher),
  metrics,
  jobStatus = jobStatusClientOf(config),
  enqueueCheck = async () => undefined,
  enqueueSubmission = async () => undefined,
  changeSignal = { watch: () => (until) => once(until, 'abort').then(() => undefined) },
  now = () => new Date(),
}: {
  config: Config;
  db: Pick<Database, 'pool' | 'prisma'>;
  cipher: FieldCipher;
  /** Where stored bodies' photos go and come from (the object store, or Postgres with inline storage). */
  vault: BodyVault;
  /** The stores the workers of this process use too. */
  stores?: SharedStores;
  metrics?: Metrics | undefined;
  jobStatus?: Pick<JobStatusClient, 'fetchStatus'>;
  /** Queues a status check at once (POST /v1/jobs/:jobId/reconcile); may fail when Redis is down. */
  enqueueCheck?: (jobId: string) => Promise<void>;
  /** Queues a submission's upload at once (POST /v1/submissions); may fail when Redis is down. */
  enqueueSubmission?: (jobId: string) => Promise<void>;
  /** Wakes long polls of the change feed; without one, they wait their whole time, then read again. */
  changeSignal?: Pick<ChangeSignal, 'watch'>;
  now?: () => Date;
}): Services {
  const { pool, prisma } = db;
  return {
    intake: createIntake({
      store: createCallbackStore({ pool, cipher, vault }),
      now,
      cipher,
      metrics,
      options: {
        partnerId: config.SMILE_PARTNER_ID,
        apiKeys: config.SMILE_API_KEYS,
        timestampToleranceMs: config.CALLBACK_TIMESTAMP_TOLERANCE_SECONDS * 1000,
        futureSkewMs: config.CALLBACK_FUTURE_SKEW_SECONDS * 1000,
        untrustedBodyQuotaPerHour: config.UNTRUSTED_BODY_QUOTA_PER_HOUR,
        untrustedCheckDelayMs: UNTRUSTED_CHECK_DELAY_MS,
      },
    }),
    api: {
      jobs: createJobQueries({ pool, cipher }),
      events: createEventQueries({ pool, vault }),
      audit: createAuditLog({ pool, now }),
      registrations: createJobRegistration({
        store: createRegistrationStore({ prisma }),
        pollModel: pollModelOf(config),
      }),
      eraseUserIdentityData: (request) => eraseUserIdentityData(pool, cipher, vault, request),
      jobStatus,
      enqueueCheck,
      submissions: {
        intake: createSubmissionIntake({
          store: stores.submissions,
          enqueue: enqueueSubmission,
          now,
        }),
        configured: config.PUBLIC_CALLBACK_URL !== null,
        maxBytes: config.SUBMISSION_MAX_BYTES,
        maxImageBytes: config.SUBMISSION_MAX_IMAGE_BYTES,
      },
      metrics,
      cursors: cursorsOf(config.DATA_ENCRYPTION_KEYS),
      changes: createLongPolls({
        read: stores.feed.read,
        watch: changeSignal.watch,
        maxWaiters: config.CHANGE_FEED_MAX_WAITERS,
        onRead: () => metrics?.changeFeedReads.inc(),
        onWaiting: (waiting) => metrics?.changeFeedWaiting.set(waiting),
      }),
      notifications: stores.webhooks,
      now,
      authenticate: createBearerAuth({
        apiTokens: config.INTERNAL_API_TOKENS,
        piiTokens: config.INTERNAL_PII_TOKENS,
        adminTokens: config.INTERNAL_ADMIN_TOKENS,
      }),
      rateLimitPerMinute: config.API_RATE_LIMIT_PER_MINUTE,
    },
  };
}

/**
 * The feature job modules a worker process runs (each folder's jobs.ts), over the shared clients. Each
 * takes what it uses: the flows it runs, its stores, its settings.
 */
function jobModulesOf(
  config: Config,
  shared: {
    db: Pick<Database, 'pool'>;
    cipher: FieldCipher;
    storage: ObjectStorage;
    stores: SharedStores;
    jobStatus: JobStatusClient;
    acquire: () => Promise<void>;
    log: FastifyBaseLogger;
    metrics: Metrics;
  },
) {
  const { db, cipher, storage, stores, jobStatus, log, metrics } = shared;
  const submissionStore = stores.submissions;
  return (producer: Producer<QueueName>): JobModule[] => [
    reconcileJobs({
      producer,
      dueChecks: createDueChecks({ pool: db.pool }),
      statusCheck: createStatusCheck({
        store: createStatusStore({ pool: db.pool, cipher, vault: storage.vault }),
        client: jobStatus,
        log,
        pollModel: pollModelOf(config),
        metrics,
      }),
      concurrency: config.RECONCILE_CONCURRENCY,
      ratePerSecond: config.SMILE_API_RATE_LIMIT_PER_SECOND,
      untrustedShare: config.UNTRUSTED_CHECK_SHARE,
      sweepIntervalMs: config.RECONCILE_SWEEP_INTERVAL_MS,
      batchSize: config.RECONCILE_BATCH_SIZE,
    }),
    submitJobs({
      producer,
      store: submissionStore,
      submit:
        config.PUBLIC_CALLBACK_URL === null
          ? null
          : createSubmitJob({
              store: submissionStore,
              uploads: uploadClientOf(config, shared.acquire),
              jobStatus,
              partnerId: config.SMILE_PARTNER_ID,
              callbackUrl: config.PUBLIC_CALLBACK_URL,
              maxAttempts: config.SUBMISSION_ATTEMPTS,
              pollModel: pollModelOf(config),
              log,
              metrics,
            }),
      concurrency: config.SUBMISSION_CONCURRENCY,
      batchSize: config.RECONCILE_BATCH_SIZE,
    }),
    notifyJobs({
      producer,
      store: stores.webhooks,
      urls: config.NOTIFY_WEBHOOK_URLS,
      secrets: webhookSecretsOf(config),
      cursors: cursorsOf(config.DATA_ENCRYPTION_KEYS),
      perEndpoint: config.NOTIFY_CONCURRENCY,
      timeoutMs: config.NOTIFY_TIMEOUT_MS,
      retryDelayMs: config.NOTIFY_RETRY_DELAY_MS,
      retryWindowMs: config.NOTIFY_RETRY_HOURS * 3_600_000,
      batchSize: config.RECONCILE_BATCH_SIZE,
      log,
      metrics,
    }),
    maintenanceJobs({
      purge: createRetentionPurge({
        pool: db.pool,
        vault: storage.vault,
        changeFeed: stores.feed,
        days: config.RETENTION_DAYS,
        batchSize: config.RETENTION_BATCH_SIZE,
      }),
      retentionIntervalMs: config.RETENTION_INTERVAL_MS,
      objectStorage:
        storage.inlineBodies && storage.sweepOrphans
          ? {
              moveOut: createBodyMover({ inlineBodies: storage.inlineBodies, metrics }),
              sweepOrphans: createOrphanSweeper({ sweep: storage.sweepOrphans, metrics }),
            }
          : null,
    }),
  ];
}

/**
 * The composition root: every long-lived connection the process opens for its role (ROLE decides here
 * and nowhere else), and one close() that releases them in order: workers first (they finish what they
 * hold), then queues, Redis, Postgres.
 */
export function createDependencies(config: Config, log: FastifyBaseLogger) {
  const servesHttpApi = config.ROLE !== 'worker';
  const runsWorkers = config.ROLE !== 'api';
  const cipher = createFieldCipher(parseKeyring(config.DATA_ENCRYPTION_KEYS));
  const metrics = createMetrics();
  // The pool and the change feed's listener report Postgres errors here: an outage is said once.
  const postgres = postgresOutages(config.DATABASE_URL, log);
  const db = createDatabase({
    url: config.DATABASE_URL,
    poolSize: config.DATABASE_POOL_SIZE,
    timeoutMs: config.DATABASE_TIMEOUT_MS,
    outages: postgres,
  });
  // Every connection, queue and worker of this process reports Redis errors here: an outage is said once.
  const outages = redisOutages(config.REDIS_URL, log);
  const fastRedis = createFailFastRedis(config.REDIS_URL, outages);
  const producer = createProducer<ApiQueue>({
    connection: fastRedis,
    prefix: config.REDIS_PREFIX,
    settings: jobSettingsOf(config),
    outages,
    open: API_JOBS.map((job) => job.queue),
  });
  // Every call to Smile ID, from any process and for any purpose, takes its place in one budget.
  const budget = createCallBudget({
    redis: fastRedis,
    prefix: config.REDIS_PREFIX,
    perSecond: config.SMILE_API_RATE_LIMIT_PER_SECOND,
  });
  // Stateless: the workers poll with it, and the API asks it for image links at request time.
  const jobStatus = jobStatusClientOf(config, budget.acquire);
  const stores = sharedStoresOf(db, cipher);
  // Photos: the object store (or Postgres, with inline storage), for the API's reads and the workers alike.
  const storage = createObjectStorage({
    settings: objectStoreOf(config),
    cipher,
    pool: db.pool,
    log,
    observer: objectStorageObserverOf(metrics),
    orphanGraceMs: config.OBJECT_STORE_ORPHAN_GRACE_MINUTES * 60_000,
  });
  const workerRedis = runsWorkers ? createWorkerRedis(config.REDIS_URL, outages) : undefined;
  const worker = workerRedis
    ? buildWorker({
        redis: workerRedis,
        prefix: config.REDIS_PREFIX,
        settings: jobSettingsOf(config),
        log,
        metrics,
        outages,
        modules: jobModulesOf(config, {
          db,
          cipher,
          storage,
          stores,
          jobStatus,
          acquire: budget.acquire,
          log,
          metrics,
        }),
      })
    : undefined;

  const gauges = createGaugeQueries({ pool: db.pool, objectStorage: storage.objects !== null });
  const changeSignal = servesHttpApi
    ? createChangeSignal({ url: config.DATABASE_URL, log, outages: postgres })
    : undefined;
  void changeSignal?.start();
  const services = servesHttpApi
    ? createServices({
        config,
        db,
        cipher,
        vault: storage.vault,
        stores,
        metrics,
        jobStatus,
        // BullMQ waits for a connection that is down; an API request must not.
        enqueueCheck: (jobId) =>
          withTimeout(producer.add(catalog.checkStatus, { jobId }), ENQUEUE_TIMEOUT_MS),
        changeSignal,
        enqueueSubmission: (jobId) =>
          withTimeout(producer.add(catalog.submitJob, { jobId }), ENQUEUE_TIMEOUT_MS),
      })
    : undefined;
  return {
    db,
    cipher,
    storage,
    metrics,
    /** What buildApp needs of these dependencies. */
    forApp: {
      services,
      metrics,
      gauges,
      // Queues whose depth /metrics reports: those this process works, or else those it produces to.
      queues: worker?.queues ?? producer.queues,
      redis: servesHttpApi ? fastRedis : undefined,
      readinessChecks: {
        postgres: gauges.ping,
        // Redis, and each schedule the workers run, named after it: a stalled sweep makes the worker unready.
        ...worker?.readinessChecks,
      },
    } satisfies Omit<AppDependencies, 'config' | 'logger'>,
    worker,
    async close() {
      await changeSignal?.close();
      await worker?.close();
      await producer.close();
      workerRedis?.disconnect();
      fastRedis.disconnect();
      storage.close();
      await db.close();
    },
    /**
     * When close() has run out of time: drops the Redis connections without waiting for workers, and
     * releases Postgres (statement_timeout bounds what it still waits for), so that the process exits
     * having said goodbye to both rather than leaving the servers to notice dead sockets.
     */
    async forceClose() {
      await changeSignal?.close();
      workerRedis?.disconnect();
      fastRedis.disconnect();
      await db.close();
    },
  };
}

export type Dependencies = ReturnType<typeof createDependencies>;
