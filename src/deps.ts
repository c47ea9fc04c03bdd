import { type ConnectionOptions, Queue } from 'bullmq';
import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';
import type { AppDependencies } from './app.js';
import type { Config } from './config.js';
import { createMetrics } from './observability/metrics.js';
import { checkJobOptions, QUEUE_NAMES } from './queues/catalog.js';
import { createReconciler } from './reconcile/reconciler.js';
import { enqueueChecks } from './reconcile/sweeper.js';
import { createFieldCipher, parseKeyring } from './security/field-cipher.js';
import { createJobStatusClient } from './smileid/job-status-client.js';
import { createDatabase } from './store/connections.js';
import { createStatusStore } from './store/status-store.js';
import { withTimeout } from './util/with-timeout.js';

/** Redis for rate limits and producers: fail fast rather than queue commands while disconnected. */
export function createFailFastRedis(url: string): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 500,
    connectTimeout: 2000,
  });
  // Connection errors are expected while Redis is down; ioredis keeps reconnecting by itself.
  redis.on('error', () => undefined);
  return redis;
}

/** Redis for workers: wait for Redis to come back instead of failing (BullMQ requires this). */
export function createWorkerRedis(url: string): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true });
  redis.on('error', () => undefined);
  return redis;
}

const ENQUEUE_TIMEOUT_MS = 1000;

/**
 * The composition root: every long-lived connection the process opens for its role, and one close()
 * that releases them in order: workers first (they finish what they hold), then queues, Redis, Postgres.
 */
export function createDependencies(config: Config, log: FastifyBaseLogger) {
  const servesHttpApi = config.ROLE !== 'worker';
  const runsWorkers = config.ROLE !== 'api';
  const cipher = createFieldCipher(parseKeyring(config.DATA_ENCRYPTION_KEYS));
  const metrics = createMetrics();
  const db = createDatabase({
    url: config.DATABASE_URL,
    poolSize: config.DATABASE_POOL_SIZE,
    timeoutMs: config.DATABASE_TIMEOUT_MS,
  });
  const fastRedis = createFailFastRedis(config.REDIS_URL);
  const producer = new Queue(QUEUE_NAMES.statusChecks, {
    connection: fastRedis as unknown as ConnectionOptions,
    prefix: config.REDIS_PREFIX,
    defaultJobOptions: checkJobOptions({
      attempts: config.RECONCILE_CHECK_ATTEMPTS,
      retryDelayMs: config.RECONCILE_RETRY_DELAY_MS,
    }),
  });
  producer.on('error', () => undefined);
  // Stateless: the workers poll with it, and the API asks it for image links at request time.
  const jobStatus = createJobStatusClient({
    baseUrl: config.SMILE_API_BASE_URL,
    partnerId: config.SMILE_PARTNER_ID,
    apiKeys: config.SMILE_API_KEYS,
    timeoutMs: config.SMILE_API_TIMEOUT_MS,
  });
  const workerRedis = runsWorkers ? createWorkerRedis(config.REDIS_URL) : undefined;
  const reconciler = workerRedis
    ? createReconciler({
        pool: db.pool,
        store: createStatusStore({
          pool: db.pool,
          horizonMs: config.RECONCILE_HORIZON_HOURS * 3600_000,
          cipher,
        }),
        client: jobStatus,
        connection: workerRedis,
        prefix: config.REDIS_PREFIX,
        concurrency: config.RECONCILE_CONCURRENCY,
        ratePerSecond: config.SMILE_API_RATE_LIMIT_PER_SECOND,
        untrustedShare: config.UNTRUSTED_CHECK_SHARE,
        attempts: config.RECONCILE_CHECK_ATTEMPTS,
        retryDelayMs: config.RECONCILE_RETRY_DELAY_MS,
        sweepIntervalMs: config.RECONCILE_SWEEP_INTERVAL_MS,
        batchSize: config.RECONCILE_BATCH_SIZE,
        retention: {
          days: config.RETENTION_DAYS,
          batchSize: config.RETENTION_BATCH_SIZE,
          intervalMs: config.RETENTION_INTERVAL_MS,
        },
        log,
        metrics,
      })
    : undefined;

  const readinessChecks: Record<string, () => Promise<unknown>> = workerRedis
    ? { redis: () => workerRedis.ping() }
    : {};
  return {
    db,
    cipher,
    metrics,
    /** What buildApp needs of these dependencies. */
    forApp: {
      db,
      cipher,
      metrics,
      jobStatus,
      // Queues whose depth /metrics reports: what this process produces or consumes.
      queues: reconciler
        ? [reconciler.checks, reconciler.untrustedChecks, reconciler.maintenance]
        : [producer],
      redis: servesHttpApi ? fastRedis : undefined,
      // BullMQ waits for a connection that is down; an API request must not.
      enqueueCheck: (jobId: string) => withTimeout(enqueueChecks(producer, [jobId]), ENQUEUE_TIMEOUT_MS),
      readinessChecks,
    } satisfies Omit<AppDependencies, 'config' | 'logger'>,
    reconciler,
    async close() {
      await reconciler?.close();
      await producer.close().catch(() => undefined);
      workerRedis?.disconnect();
      fastRedis.disconnect();
      await db.close();
    },
    /**
     * When close() has run out of time: drops the Redis connections without waiting for workers, and
     * releases Postgres (statement_timeout bounds what it still waits for), so that the process exits
     * having said goodbye to both rather than leaving the servers to notice dead sockets.
     */
    async forceClose() {
      workerRedis?.disconnect();
      fastRedis.disconnect();
      await db.close();
    },
  };
}

export type Dependencies = ReturnType<typeof createDependencies>;
