import type pg from 'pg';
import { inMaintenance } from '../transactions.js';
import type { BodyTable, BodyVault, StashedBody } from './body-vault.js';

/**
 * Bodies still whole in their rows (`body_objects` NULL): stored before object storage was configured,
 * or while the object store could not be reached. They are moved out in batches, oldest first, each
 * batch one transaction that holds its rows (FOR UPDATE SKIP LOCKED, so two movers never take the same
 * row) while their parts are written, then rewrites them; a batch that fails rolls back whole, and its
 * objects are removed (or swept as orphans). So it is resumable by construction: whatever is still
 * whole is what is left to do, and a run can stop anywhere.
 */

const TABLES: ReadonlyArray<{ table: BodyTable; time: string }> = [
  { table: 'callback_events', time: 'received_at' },
  { table: 'status_snapshots', time: 'fetched_at' },
];

/** Reads the partial indexes `*_inline_body_idx`: cheap once the backlog is small. */
const COUNT_WHOLE = `
SELECT (SELECT count(*) FROM callback_events WHERE body_objects IS NULL AND body IS NOT NULL)::int
     + (SELECT count(*) FROM status_snapshots WHERE body_objects IS NULL AND body IS NOT NULL)::int AS whole`;

export interface MovedOut {
  /** Rows looked at: each leaves the backlog. */
  examined: number;
  /** Of them, rows whose photos went to the object store. */
  moved: number;
  /** Objects written. */
  objects: number;
}

/** Bodies whose photos are still in Postgres: the backlog. */
export async function countWholeBodies(pool: pg.Pool): Promise<number> {
  return (await pool.query<{ whole: number }>(COUNT_WHOLE)).rows[0]!.whole;
}

export function createInlineBodies({ pool, vault }: { pool: pg.Pool; vault: BodyVault }) {
  /** One batch of one table. */
  async function moveOutOf(table: BodyTable, time: string, batchSize: number): Promise<MovedOut> {
    const written: StashedBody[] = [];
    try {
      return await inMaintenance(pool, async (client) => {
        const { rows } = await client.query<{ id: string; body: Buffer }>(
          `SELECT id, body FROM ${table} WHERE body_objects IS NULL AND body IS NOT NULL
            ORDER BY ${time} LIMIT $1 FOR UPDATE SKIP LOCKED`,
          [batchSize],
        );
        const done: MovedOut = { examined: rows.length, moved: 0, objects: 0 };
        for (const row of rows) {
          const stashed = await vault.moveOut({ table, id: row.id }, row.body);
          written.push(stashed);
          if (stashed.objects === 0) {
            await client.query(`UPDATE ${table} SET body_objects = 0 WHERE id = $1`, [row.id]);
            continue;
          }
          await client.query(`UPDATE ${table} SET body = $2, body_objects = $3 WHERE id = $1`, [
            row.id,
            stashed.sealed,
            stashed.objects,
          ]);
          done.moved += 1;
          done.objects += stashed.objects ?? 0;
        }
        return done;
      });
    } catch (error) {
      await vault.discard(written.flatMap((stashed) => stashed.keys));
      throw error;
    }
  }

  return {
    countWhole: () => countWholeBodies(pool),

    /** One batch from each table; throws when the object store cannot take the parts. */
    async moveOutBatch(batchSize: number): Promise<MovedOut> {
      const total: MovedOut = { examined: 0, moved: 0, objects: 0 };
      for (const { table, time } of TABLES) {
        const done = await moveOutOf(table, time, batchSize);
        total.examined += done.examined;
        total.moved += done.moved;
        total.objects += done.objects;
      }
      return total;
    },
  };
}

export type InlineBodies = ReturnType<typeof createInlineBodies>;
