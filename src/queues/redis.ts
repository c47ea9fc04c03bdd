import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';
import { createOutageReporter, type OutageReporter } from '../util/outages.js';

/** Where REDIS_URL points, as a log may say it: host, port and database, never a password. */
export function redisAddress(url: string): string {
  try {
    const parsed = new URL(url);
    const database = parsed.pathname.replace(/^\//, '');
    return `${parsed.hostname}:${parsed.port || '6379'}${database ? `/${database}` : ''}`;
  } catch {
    return 'the address in REDIS_URL';
  }
}

/**
 * One reporter of Redis outages for the whole process: its connections, queues and workers all report
 * to it, so that an outage is said once, and its end once.
 */
export function redisOutages(url: string, log: FastifyBaseLogger): OutageReporter {
  return createOutageReporter({
    log,
    dependency: {
      name: 'Redis',
      address: redisAddress(url),
      variable: 'REDIS_URL',
      remedy:
        'connections retry and queued work waits until it is back: start it (docker compose up -d redis) or point REDIS_URL at it',
    },
  });
}

/** Redis for rate limits and producers: fail fast rather than queue commands while disconnected. */
export function createFailFastRedis(url: string, outages: OutageReporter): Redis {
  return outages.watch(
    new Redis(url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: 500,
      connectTimeout: 2000,
    }),
  );
}

/** Redis for workers: wait for Redis to come back instead of failing (BullMQ requires this). */
export function createWorkerRedis(url: string, outages: OutageReporter): Redis {
  return outages.watch(new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true }));
}
