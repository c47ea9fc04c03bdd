import type pg from 'pg';
import { type FieldCipher, sealContext } from '../security/field-cipher.js';
import { inTransaction } from './transactions.js';

/**
 * The two tasks that may rewrite stored identity data: moving it under the newest key, and erasing it
 * at the end of retention. Both work in small batches, each batch one transaction that announces itself
 * to the immutability trigger (`smileid.maintenance`), so they can run beside live traffic.
 */

interface SealedColumn {
  table: 'jobs' | 'callback_events' | 'status_snapshots';
  key: 'job_id' | 'id';
  column: 'id_info' | 'body';
  context: (key: string) => string;
}

const SEALED_COLUMNS: readonly SealedColumn[] = [
  { table: 'jobs', key: 'job_id', column: 'id_info', context: sealContext.idInfo },
  { table: 'callback_events', key: 'id', column: 'body', context: sealContext.callbackBody },
  { table: 'status_snapshots', key: 'id', column: 'body', context: sealContext.snapshotBody },
];

function inMaintenance<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return inTransaction(pool, async (client) => {
    await client.query("SET LOCAL smileid.maintenance = 'on'");
    return work(client);
  });
}

/** Re-seals values under the newest key (plaintext from before encryption too); returns how many. */
export async function reencryptBatch(pool: pg.Pool, cipher: FieldCipher, batchSize: number): Promise<number> {
  let total = 0;
  for (const target of SEALED_COLUMNS) {
    total += await inMaintenance(pool, async (client) => {
      const { rows } = await client.query<{ key: string; value: Buffer }>(
        `SELECT ${target.key} AS key, ${target.column} AS value FROM ${target.table}
          WHERE ${target.column} IS NOT NULL AND sealed_key_id(${target.column}) IS DISTINCT FROM $1
          LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [cipher.currentKeyId, batchSize],
      );
      for (const row of rows) {
        const context = target.context(row.key);
        // Jobs' writers compare-and-swap on version: bumping it makes one that read the old value re-read.
        const bump = target.table === 'jobs' ? ', version = version + 1' : '';
        await client.query(
          `UPDATE ${target.table} SET ${target.column} = $2${bump} WHERE ${target.key} = $1`,
          [row.key, cipher.seal(cipher.open(row.value, context), context)],
        );
      }
      return rows.length;
    });
  }
  return total;
}

/**
 * Re-seals everything not yet under the newest key. Batches skip rows locked by live writes, so it ends
 * only when a count that waits for no lock finds nothing left.
 */
export async function reencryptAll(pool: pg.Pool, cipher: FieldCipher, batchSize = 500): Promise<number> {
  let total = 0;
  for (;;) {
    const done = await reencryptBatch(pool, cipher, batchSize);
    total += done;
    if (done === 0 && (await countNotUnderKey(pool, cipher.currentKeyId)) === 0) return total;
    if (done === 0) await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function countNotUnderKey(pool: pg.Pool, keyId: string): Promise<number> {
  let count = 0;
  for (const target of SEALED_COLUMNS) {
    const { rows } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${target.table}
        WHERE ${target.column} IS NOT NULL AND sealed_key_id(${target.column}) IS DISTINCT FROM $1`,
      [keyId],
    );
    count += rows[0]!.n;
  }
  return count;
}

export interface PurgeCounts {
  jobs: number;
  callbackEvents: number;
  statusSnapshots: number;
}

/**
 * One batch of retention: raw bodies (with their photos) received before `before` are removed, and the
 * ID authority's record of jobs created before it is erased. Outcomes, codes, hashes and times remain.
 * Jobs' versions are bumped so that a concurrent merge re-reads instead of writing the record back.
 */
export async function purgeExpiredBatch(
  pool: pg.Pool,
  before: Date,
  batchSize: number,
): Promise<PurgeCounts> {
  return inMaintenance(pool, async (client) => {
    const purge = async (sql: string) => (await client.query(sql, [before, batchSize])).rowCount ?? 0;
    return {
      callbackEvents: await purge(`
        UPDATE callback_events SET body = NULL, purged_at = now()
         WHERE id IN (SELECT id FROM callback_events WHERE received_at < $1 AND purged_at IS NULL
                       LIMIT $2 FOR UPDATE SKIP LOCKED)`),
      statusSnapshots: await purge(`
        UPDATE status_snapshots SET body = NULL, purged_at = now()
         WHERE id IN (SELECT id FROM status_snapshots WHERE fetched_at < $1 AND purged_at IS NULL
                       LIMIT $2 FOR UPDATE SKIP LOCKED)`),
      jobs: await purge(`
        UPDATE jobs SET id_info = NULL, purged_at = now(), version = version + 1, updated_at = now()
         WHERE job_id IN (SELECT job_id FROM jobs WHERE created_at < $1 AND (purged_at IS NULL OR id_info IS NOT NULL)
                           LIMIT $2 FOR UPDATE SKIP LOCKED)`),
    };
  });
}

/** Purges everything past retention, a batch at a time. */
export async function purgeExpired(
  pool: pg.Pool,
  before: Date,
  batchSize: number,
  maxBatches = Number.POSITIVE_INFINITY,
): Promise<PurgeCounts> {
  const total: PurgeCounts = { jobs: 0, callbackEvents: 0, statusSnapshots: 0 };
  for (let batches = 0; batches < maxBatches; batches += 1) {
    const batch = await purgeExpiredBatch(pool, before, batchSize);
    total.jobs += batch.jobs;
    total.callbackEvents += batch.callbackEvents;
    total.statusSnapshots += batch.statusSnapshots;
    if (batch.jobs + batch.callbackEvents + batch.statusSnapshots === 0) return total;
  }
  return total;
}
