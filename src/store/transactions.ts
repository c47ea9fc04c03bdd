import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';

export class StoreConflictError extends Error {
  readonly code = 'STORE_CONFLICT';
}

const MAX_ATTEMPTS = 10;

/**
 * Runs a read-merge-write attempt until it writes. An attempt returns null when its compare-and-swap
 * lost to a concurrent writer; re-reading and merging again is safe because merging is idempotent and
 * order-independent. A short random pause keeps two losers from colliding again.
 */
export async function withCompareAndSwap<T>(attempt: () => Promise<T | null>): Promise<T> {
  for (let round = 1; round <= MAX_ATTEMPTS; round += 1) {
    const written = await attempt();
    if (written !== null) return written;
    await sleep(Math.random() * 2 * round);
  }
  throw new StoreConflictError(`gave up after ${MAX_ATTEMPTS} conflicting writes`);
}

/** Runs `work` on one connection inside BEGIN … COMMIT, rolling back if it throws. */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  // The pool listens for errors only on idle clients: a connection dropped between two statements of
  // this transaction would otherwise be an uncaught 'error' event. The next statement fails instead,
  // and the broken client is destroyed rather than returned to the pool.
  let lost: Error | undefined;
  const onLost = (error: Error) => {
    lost = error;
  };
  client.on('error', onLost);
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    // The work's error is the one to tell: a ROLLBACK fails only on a lost connection, which ends the
    // transaction anyway, and the broken client is destroyed below.
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.off('error', onLost);
    client.release(lost);
  }
}

/**
 * A transaction of a maintenance task that may rewrite stored evidence (re-encryption, retention,
 * erasure, moving photos out): it announces itself to the immutability triggers (`smileid.maintenance`).
 */
export function inMaintenance<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return inTransaction(pool, async (client) => {
    await client.query("SET LOCAL smileid.maintenance = 'on'");
    return work(client);
  });
}
