import type { FastifyBaseLogger } from 'fastify';
import { cursorsOf } from './api/cursor.js';
import type { AppDependencies } from './app-dependencies.js';
import type { Config } from './config.js';
import { decideJobs } from './decide/jobs.js';
import { createDecisionReplay } from './decide/replay.js';
import { maintenanceJobs } from './maintenance/jobs.js';
import { createBodyMover, createOrphanSweeper } from './maintenance/object-storage.js';
import { createRetentionPurge } from './maintenance/retention.js';
import { notifyJobs } from './notify/jobs.js';
import { createMetrics, type Metrics, objectStorageObserverOf } from './observability/metrics.js';
import { createCallBudget } from './queues/call-budget.js';
import { catalog, type QueueName } from './queues/catalog.js';
import type { JobModule } from './queues/job-module.js';
import { createProducer, type Producer } from './queues/producer.js';
import { createFailFastRedis, createWorkerRedis, redisOutages } from './queues/redis.js';
import { createStatusCheck } from './reconcile/check-status.js';
import { reconcileJobs } from './reconcile/jobs.js';
import { createFieldCipher, type FieldCipher } from './security/field-cipher.js';
import { createServices, type SharedStores, sharedStoresOf } from './services.js';
import { type Settings, settingsOf } from './settings.js';
import { createJobStatusClient, type JobStatusClient } from './smileid/job-status-client.js';
import { createUploadClient } from './smileid/upload-client.js';
import { createDatabase, type Database, postgresOutages } from './store/connections.js';
import { createStatusStore } from './store/evidence/status-store.js';
import { createChangeSignal } from './store/feed/change-feed.js';
import { createDecisionReplayStore } from './store/jobs/decision-replay.js';
import { createDueChecks } from './store/jobs/due-checks.js';
import { createGaugeQueries } from './store/jobs/job-gauges.js';
import { createObjectStorage, type ObjectStorage } from './store/objects/object-storage.js';
import { submitJobs } from './submit/jobs.js';
import { createSubmitJob } from './submit/submit-job.js';
import { withTimeout } from './util/with-timeout.js';
import { buildWorker } from './worker.js';

const ENQUEUE_TIMEOUT_MS = 1000;

/** The jobs the API queues: checks it is asked for, and submissions it accepted. */
const API_JOBS = [catalog.checkStatus, catalog.submitJob] as const;
type ApiQueue = (typeof API_JOBS)[number]['queue'];

/** The clients and stores both sides of a process share, built once. */
interface SharedClients {
  db: Pick<Database, 'pool' | 'prisma'>;
  cipher: FieldCipher;
  /** Photos: the object store (or Postgres, with inline storage), for the API's reads and the workers alike. */
  storage: ObjectStorage;
  stores: SharedStores;
  jobStatus: JobStatusClient;
  /** Waits for a call's place in the Smile ID call budget. */
  acquire: () => Promise<void>;
  log: FastifyBaseLogger;
  metrics: Metrics;
}

/**
 * The feature job modules a worker process runs (each folder's jobs.ts), over the shared clients. Each
 * takes what it uses: the flows it runs, its stores, its settings.
 */
function jobModulesOf(settings: Settings, shared: SharedClients) {
  const { db, cipher, storage, stores, jobStatus, log, metrics } = shared;
  const { pollModel, submissions } = settings;
  const { callbackUrl } = submissions;
  return (producer: Producer<QueueName>): JobModule[] => [
    reconcileJobs({
      producer,
      dueChecks: createDueChecks({ pool: db.pool }),
      statusCheck: createStatusCheck({
        store: createStatusStore({ pool: db.pool, cipher, vault: storage.vault }),
        client: jobStatus,
        log,
        pollModel,
        policy: settings.decisions.policy,
        metrics,
      }),
      settings: settings.reconciliation,
    }),
    submitJobs({
      producer,
      store: stores.submissions,
      submit:
        callbackUrl === null
          ? null
          : createSubmitJob({
              store: stores.submissions,
              uploads: createUploadClient({ ...settings.smileApi.uploads, slot: shared.acquire }),
              jobStatus,
              settings: { ...submissions, callbackUrl },
              pollModel,
              log,
              metrics,
            }),
      settings: submissions,
    }),
    notifyJobs({
      producer,
      store: stores.webhooks,
      settings: settings.notifications,
      cursors: cursorsOf(settings.dataEncryptionKeys),
      log,
      metrics,
    }),
    decideJobs({
      replay: createDecisionReplay({
        store: createDecisionReplayStore({ pool: db.pool }),
        policy: settings.decisions.policy,
        startedAt: new Date(),
        metrics,
      }),
    }),
    maintenanceJobs({
      purge: createRetentionPurge({
        pool: db.pool,
        vault: storage.vault,
        changeFeed: stores.feed,
        settings: settings.retention,
      }),
      settings: settings.retention,
      objectStorage:
        storage.inlineBodies && storage.sweepOrphans
          ? {
              moveOut: createBodyMover({
                inlineBodies: storage.inlineBodies,
                store: storage.objects ?? undefined,
                metrics,
              }),
              sweepOrphans: createOrphanSweeper({ sweep: storage.sweepOrphans, metrics }),
            }
          : null,
    }),
  ];
}

/**
 * The connections every role opens: Postgres (the pool and, for the API, the change feed's listener
 * report errors to one outage reporter, so an outage is said once) and the fail-fast Redis of producers,
 * counters and the call budget (every connection, queue and worker reports to the other).
 */
function openConnections(settings: Settings, log: FastifyBaseLogger) {
  const { database, redis } = settings;
  const postgres = postgresOutages(database.url, log);
  const db = createDatabase({ ...database, outages: postgres });
  const redisOutagesReporter = redisOutages(redis.url, log);
  const fastRedis = createFailFastRedis(redis.url, redisOutagesReporter);
  return { postgres, db, redisOutages: redisOutagesReporter, fastRedis };
}

type Connections = ReturnType<typeof openConnections>;

/** The producer of the jobs the API queues, and what it needs to queue them without waiting. */
function apiProducerOf(settings: Settings, { fastRedis, redisOutages }: Connections) {
  return createProducer<ApiQueue>({
    connection: fastRedis,
    prefix: settings.redis.prefix,
    settings: settings.jobs,
    outages: redisOutages,
    open: API_JOBS.map((job) => job.queue),
  });
}

/**
 * The composition root: every long-lived connection the process opens for its role (ROLE decides here
 * and nowhere else), and one close() that releases them in order: workers first (they finish what they
 * hold), then queues, Redis, Postgres.
 */
export function createDependencies(config: Config, log: FastifyBaseLogger) {
  const servesHttpApi = config.ROLE !== 'worker';
  const runsWorkers = config.ROLE !== 'api';
  const settings = settingsOf(config);
  const cipher = createFieldCipher(settings.keyring);
  const metrics = createMetrics();
  const connections = openConnections(settings, log);
  const { db, fastRedis } = connections;
  const producer = apiProducerOf(settings, connections);
  // Every call to Smile ID, from any process and for any purpose, takes its place in one budget.
  const budget = createCallBudget({
    redis: fastRedis,
    prefix: settings.redis.prefix,
    perSecond: settings.smileApi.callsPerSecond,
    outages: connections.redisOutages,
    log,
  });
  // Stateless: the workers poll with it, and the API asks it for image links at request time.
  const jobStatus = createJobStatusClient({ ...settings.smileApi.status, slot: budget.acquire });
  const stores = sharedStoresOf(db, cipher);
  const storage = createObjectStorage({
    ...settings.objectStore,
    cipher,
    pool: db.pool,
    log,
    observer: objectStorageObserverOf(metrics),
  });
  const shared = { db, cipher, storage, stores, jobStatus, acquire: budget.acquire, log, metrics };
  const worker = runsWorkers ? workerOf(settings, connections, shared) : undefined;
  const gauges = createGaugeQueries({ pool: db.pool, objectStorage: storage.objects !== null });
  const changeSignal = servesHttpApi
    ? createChangeSignal({ url: settings.database.url, outages: connections.postgres })
    : undefined;
  void changeSignal?.start();
  const services = servesHttpApi
    ? createServices({
        settings,
        db,
        cipher,
        vault: storage.vault,
        stores,
        metrics,
        jobStatus,
        changeSignal,
        // BullMQ waits for a connection that is down; an API request must not.
        enqueueCheck: (jobId) =>
          withTimeout(producer.add(catalog.checkStatus, { jobId }), ENQUEUE_TIMEOUT_MS),
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
      worker?.redis.disconnect();
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
      worker?.redis.disconnect();
      fastRedis.disconnect();
      await db.close();
    },
  };
}

/** The worker side, on a Redis connection of its own that waits out outages (BullMQ's workers block). */
function workerOf(settings: Settings, connections: Connections, shared: SharedClients) {
  const redis = createWorkerRedis(settings.redis.url, connections.redisOutages);
  const worker = buildWorker({
    redis,
    prefix: settings.redis.prefix,
    settings: settings.jobs,
    log: shared.log,
    metrics: shared.metrics,
    outages: connections.redisOutages,
    modules: jobModulesOf(settings, shared),
  });
  return { ...worker, redis };
}

export type Dependencies = ReturnType<typeof createDependencies>;
