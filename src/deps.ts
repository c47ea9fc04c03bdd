import { Redis } from 'ioredis';
import type { Config } from './config.js';
import { createDatabase } from './db/connections.js';

/** Redis for rate limits: fail fast rather than queue commands while disconnected. */
export function createRateLimitRedis(url: string): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 500,
    connectTimeout: 2000,
    lazyConnect: false,
  });
  // Connection errors are expected while Redis is down; ioredis keeps reconnecting by itself.
  redis.on('error', () => undefined);
  return redis;
}

/** The composition root: every long-lived connection the process opens, and one way to close them all. */
export function createDependencies(config: Config) {
  const db = createDatabase({
    url: config.DATABASE_URL,
    poolSize: config.DATABASE_POOL_SIZE,
    timeoutMs: config.DATABASE_TIMEOUT_MS,
  });
  const redis = createRateLimitRedis(config.REDIS_URL);
  return {
    db,
    redis,
    async close() {
      redis.disconnect();
      await db.close();
    },
  };
}

export type Dependencies = ReturnType<typeof createDependencies>;
