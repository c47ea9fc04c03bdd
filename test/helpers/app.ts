import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { inject } from 'vitest';
import { cursorsOf } from '../../src/api/cursor.js';
import { buildApp } from '../../src/app.js';
import { type Config, DEVELOPMENT_SECRETS, loadConfig } from '../../src/config.js';
import { type Metrics, objectStorageObserverOf } from '../../src/observability/metrics.js';
import { createFailFastRedis, redisOutages } from '../../src/queues/redis.js';
import { createFieldCipher, type FieldCipher, parseKeyring } from '../../src/security/field-cipher.js';
import { createServices } from '../../src/services.js';
import { settingsOf } from '../../src/settings.js';
import { createDatabase, type Database, postgresOutages } from '../../src/store/connections.js';
import {
  createObjectStorage,
  type ObjectStorage,
  objectStorageSettingsOf,
} from '../../src/store/objects/object-storage.js';
import { capturingLogger } from './logs.js';
import { testObjectStoreEnv } from './object-store-settings.js';

export const TEST_PARTNER_ID = '085';
export const TEST_API_KEY = 'test-api-key';
export const API_TOKEN = 'api-token-for-tests';
export const PII_TOKEN = 'pii-token-for-tests';
export const ADMIN_TOKEN = 'admin-token-for-tests';
export const REVIEW_TOKEN = 'review-token-for-tests';

/** Cursors as the test apps issue them (they keep the default DATA_ENCRYPTION_KEYS). */
export const TEST_CURSORS = cursorsOf([DEVELOPMENT_SECRETS.DATA_ENCRYPTION_KEYS]);

/**
 * The key prefix of photos in the test run's bucket: one for every test on the shared database, so that
 * any test's stores read any row's photos, as they read its row. A test that works on a whole database of
 * its own (the orphan sweep) takes a prefix of its own with it.
 */
export const TEST_OBJECT_PREFIX = 'shared/';

/** Photos' storage as the service builds it from `config`, for tests that compose stores themselves. */
export function testObjectStorage(
  config: Config,
  cipher: FieldCipher,
  db: Pick<Database, 'pool'>,
): ObjectStorage {
  return createObjectStorage({
    ...objectStorageSettingsOf(config),
    cipher,
    pool: db.pool,
    log: capturingLogger('warn').logger,
  });
}

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: inject('databaseUrl'),
    REDIS_URL: inject('redisUrl'),
    SMILE_PARTNER_ID: TEST_PARTNER_ID,
    SMILE_API_KEYS: `${TEST_API_KEY},previous-api-key`,
    INTERNAL_API_TOKENS: API_TOKEN,
    INTERNAL_PII_TOKENS: PII_TOKEN,
    INTERNAL_ADMIN_TOKENS: ADMIN_TOKEN,
    INTERNAL_REVIEW_TOKENS: REVIEW_TOKEN,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'info',
    // Redis keys of their own, so rate-limit counters never leak between tests or runs.
    REDIS_PREFIX: `test-${randomBytes(4).toString('hex')}`,
    // Photos go to the test run's S3-compatible server, as they would to a bucket.
    ...testObjectStoreEnv(inject('objectStoreUrl'), TEST_OBJECT_PREFIX),
    ...overrides,
  });
}

export interface TestApp {
  app: FastifyInstance;
  cipher: FieldCipher;
  /** Where the app's stored bodies keep their photos. */
  storage: ObjectStorage;
  db: Database;
  config: Config;
  /** Every log line the app wrote, as raw text. */
  logs: () => string;
  close: () => Promise<void>;
}

/** The real app on the test database, with logs captured in memory. */
export async function createTestApp(
  options: {
    env?: Record<string, string>;
    withRedis?: boolean;
    now?: () => Date;
    changeSignal?: Parameters<typeof createServices>[0]['changeSignal'];
    /** Measured into these metrics, served at /metrics; without them, nothing is measured. */
    metrics?: Metrics;
  } = {},
): Promise<TestApp> {
  const config = testConfig(options.env);
  const { logger, logs } = capturingLogger(config.LOG_LEVEL);
  const db = createDatabase({
    url: config.DATABASE_URL,
    poolSize: 10,
    timeoutMs: config.DATABASE_TIMEOUT_MS,
    outages: postgresOutages(config.DATABASE_URL, logger),
  });
  const redis = options.withRedis
    ? createFailFastRedis(config.REDIS_URL, redisOutages(config.REDIS_URL, logger))
    : undefined;
  if (redis) await redisReady(redis, 1000);
  const cipher = createFieldCipher(parseKeyring(config.DATA_ENCRYPTION_KEYS));
  const storage = createObjectStorage({
    ...objectStorageSettingsOf(config),
    cipher,
    pool: db.pool,
    log: logger,
    observer: objectStorageObserverOf(options.metrics),
  });
  const services =
    config.ROLE === 'worker'
      ? undefined
      : createServices({
          settings: settingsOf(config),
          db,
          cipher,
          vault: storage.vault,
          now: options.now,
          changeSignal: options.changeSignal,
          metrics: options.metrics,
        });
  const app = await buildApp({
    config,
    logger,
    services,
    redis,
    metrics: options.metrics,
    readinessChecks: { postgres: () => db.pool.query('SELECT 1') },
  });
  await app.ready();
  return {
    app,
    cipher,
    storage,
    db,
    config,
    logs,
    async close() {
      await app.close();
      storage.close();
      redis?.disconnect();
      await db.close();
    },
  };
}

/** Waits for the connection so the first requests are limited too; an unreachable Redis just times out. */
function redisReady(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    redis.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
