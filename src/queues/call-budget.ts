import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import type { OutageReporter } from '../util/outages.js';
import { createRepeatedErrorLog } from '../util/repeated-errors.js';

/**
 * One budget of calls per second to Smile ID, kept in Redis and shared by every process and every kind
 * of call (job_status checks, submissions, image links, manual reconciles). It is a sliding log: a sorted
 * set of the last second's calls, stamped with Redis's own clock so that no process's clock matters, so
 * no span of one second ever holds more than the budget (a fixed window would let twice the budget pass
 * across its boundary). A caller over the budget waits until the oldest call leaves the log. If Redis
 * cannot be asked, the call goes ahead: the budget protects Smile ID's rate limit, and a short outage of
 * it must not stop confirmations (Smile ID's own 429s are retried with backoff anyway). Either way it is
 * said: an outage by the process's Redis outage reporter, any other failure (the script refused, the key
 * of another type) as an error, since until it is fixed every call goes ahead unbudgeted.
 */

const WINDOW_MS = 1000;

/** Drop calls older than the window; record this one if there is room (answer 0), else answer the wait. */
const TAKE = `
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now)`;

export function createCallBudget({
  redis,
  prefix,
  perSecond,
  outages,
  log,
}: {
  redis: Pick<Redis, 'eval'>;
  prefix: string;
  perSecond: number;
  outages: Pick<OutageReporter, 'reportIfUnreachable'>;
  log: FastifyBaseLogger;
}) {
  const key = `${prefix}:smile-api-budget`;
  const failed = createRepeatedErrorLog({
    log,
    level: 'error',
    message:
      'could not take a place in the Smile ID call budget; calls go ahead unbudgeted until this is fixed',
  });

  /** Resolves when a call may be made. */
  async function acquire(): Promise<void> {
    const call = randomUUID();
    for (;;) {
      let waitMs: number;
      try {
        waitMs = Number(await redis.eval(TAKE, 1, key, perSecond, WINDOW_MS, call));
      } catch (error) {
        if (!outages.reportIfUnreachable(error)) failed(error, { key });
        return;
      }
      if (waitMs <= 0) return;
      // Spread over a few milliseconds, so the waiters do not all arrive at the same instant.
      await sleep(waitMs + Math.random() * 20);
    }
  }

  return { acquire };
}

export type CallBudget = ReturnType<typeof createCallBudget>;
