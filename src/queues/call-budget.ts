import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';

/**
 * One budget of calls per second to Smile ID, kept in Redis and shared by every process and every kind
 * of call (job_status checks, submissions, image links, manual reconciles): a fixed one-second window,
 * counted atomically. A caller over the budget waits for the next window. If Redis cannot be asked, the
 * call goes ahead: the budget protects Smile ID's rate limit, and a short outage of it must not stop
 * confirmations (Smile ID's own 429s are retried with backoff anyway).
 */

const WINDOW_MS = 1000;

/** INCR the window's counter (starting the window on its first call); answer 0, or ms until it ends. */
const TAKE = `
local taken = redis.call('INCR', KEYS[1])
if taken == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if taken <= tonumber(ARGV[1]) then return 0 end
local left = redis.call('PTTL', KEYS[1])
if left < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  left = tonumber(ARGV[2])
end
return left`;

export function createCallBudget({
  redis,
  prefix,
  perSecond,
}: {
  redis: Pick<Redis, 'eval'>;
  prefix: string;
  perSecond: number;
}) {
  const key = `${prefix}:smile-api-budget`;

  /** Resolves when a call may be made. */
  async function acquire(): Promise<void> {
    for (;;) {
      let waitMs: number;
      try {
        waitMs = Number(await redis.eval(TAKE, 1, key, perSecond, WINDOW_MS));
      } catch {
        return;
      }
      if (waitMs <= 0) return;
      // Spread over a few milliseconds, so the waiters do not all arrive at the window's first instant.
      await sleep(waitMs + Math.random() * 20);
    }
  }

  /** `fetch`, each call first taking its place in the budget. */
  const budgeted =
    (send: typeof fetch = fetch): typeof fetch =>
    async (input, init) => {
      await acquire();
      return send(input, init);
    };

  return { acquire, fetch: budgeted };
}

export type CallBudget = ReturnType<typeof createCallBudget>;
