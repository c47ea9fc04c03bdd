import type { FastifyBaseLogger } from 'fastify';
import { ObjectStoreUnavailableError } from './object-store.js';

/** After the store failed, bodies go inline for this long without trying it: callbacks do not wait on it. */
export const PAUSE_AFTER_FAILURE_MS = 5000;

/**
 * The vault's memory of failed puts. After one, bodies are kept whole in Postgres for a pause without
 * asking the store. A store that cannot be reached is said by its outage reporter (every call reports
 * to it: store/objects/object-store-outages.ts); one that answers but refuses (credentials, a bucket
 * policy, a bucket that does not exist) is said here, once until a put succeeds again.
 */
export function createPutFailures({
  log,
  where,
  now = Date.now,
  pauseMs = PAUSE_AFTER_FAILURE_MS,
}: {
  log: FastifyBaseLogger;
  /** The bucket and prefix, for the log. */
  where: string;
  now?: () => number;
  pauseMs?: number;
}) {
  let pausedUntil = 0;
  let refusing = false;
  return {
    /** True for a pause after a failed put: bodies are kept whole without asking the store. */
    get paused(): boolean {
      return now() < pausedUntil;
    },
    failed(error: unknown): void {
      pausedUntil = now() + pauseMs;
      if (error instanceof ObjectStoreUnavailableError || refusing) return;
      refusing = true;
      const { name, message } = error as Error;
      log.error(
        { objectStore: where, error: { name, message } },
        'object store cannot take photos: bodies are kept whole in Postgres and moved out once it takes them',
      );
    },
    succeeded(): void {
      if (!refusing) return;
      refusing = false;
      log.info({ objectStore: where }, 'object store takes photos again');
    },
  };
}

export type PutFailures = ReturnType<typeof createPutFailures>;
