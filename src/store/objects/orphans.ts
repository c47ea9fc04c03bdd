import type pg from 'pg';
import { type BodyTable, parseObjectKey } from './body-vault.js';
import type { ObjectStore } from './object-store.js';

/**
 * The orphan sweep: objects no stored body refers to any more — written for a row that never committed
 * (a crash between the write and the commit), or left by an erasure or retention whose deletion failed
 * — are removed once older than the grace period, which no write in progress outlasts. Each run lists
 * a few pages of the bucket in key order from where the last run stopped (kept in Postgres), and starts
 * again from the first key after the last: a full pass over N objects takes N / (pages × 1000) runs.
 * Keys this service did not make are never touched.
 */

const POSITION = 'object-orphan-sweep';
const PAGE = 1000;

const READ_POSITION = 'SELECT position FROM maintenance_positions WHERE name = $1';
const SAVE_POSITION = `
INSERT INTO maintenance_positions (name, position, updated_at) VALUES ($1, $2, now())
ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, updated_at = now()`;

/** The rows of these ids that still hold their body, with how many objects it has. */
const REFERENCED = (table: BodyTable) =>
  `SELECT id, body_objects AS objects FROM ${table} WHERE id = ANY($1::uuid[]) AND body IS NOT NULL`;

export interface SweepResult {
  listed: number;
  removed: number;
  /** The pass over the bucket ended in this run; the next starts from the first key. */
  wrapped: boolean;
}

export function createOrphanSweep({
  pool,
  objects,
  graceMs,
  pagesPerRun = 20,
  now = () => new Date(),
}: {
  pool: pg.Pool;
  objects: ObjectStore;
  graceMs: number;
  pagesPerRun?: number;
  now?: () => Date;
}) {
  /** The keys of `candidates` that no row refers to. */
  async function unreferenced(candidates: readonly string[]): Promise<string[]> {
    const parsed = candidates.flatMap((key) => {
      const made = parseObjectKey(key);
      return made ? [{ key, ...made }] : [];
    });
    const parts = new Map<string, number>();
    for (const table of ['callback_events', 'status_snapshots'] as const) {
      const ids = [...new Set(parsed.filter((each) => each.ref.table === table).map((each) => each.ref.id))];
      if (ids.length === 0) continue;
      const { rows } = await pool.query<{ id: string; objects: number | null }>(REFERENCED(table), [ids]);
      for (const row of rows) parts.set(`${table}/${row.id}`, row.objects ?? 0);
    }
    return parsed
      .filter((each) => each.part >= (parts.get(`${each.ref.table}/${each.ref.id}`) ?? 0))
      .map((each) => each.key);
  }

  return async function sweep(): Promise<SweepResult> {
    const saved = (await pool.query<{ position: string | null }>(READ_POSITION, [POSITION])).rows[0];
    let after = saved?.position ?? undefined;
    const olderThan = now().getTime() - graceMs;
    const result: SweepResult = { listed: 0, removed: 0, wrapped: false };
    for (let page = 0; page < pagesPerRun && !result.wrapped; page += 1) {
      const listed = await objects.list(after, PAGE);
      result.listed += listed.objects.length;
      const old = listed.objects.filter((object) => object.lastModified.getTime() < olderThan);
      const orphans = await unreferenced(old.map((object) => object.key));
      if (orphans.length > 0) result.removed += await objects.remove(orphans);
      after = listed.objects.at(-1)?.key;
      if (!listed.more) {
        after = undefined;
        result.wrapped = true;
      }
    }
    await pool.query(SAVE_POSITION, [POSITION, after ?? null]);
    return result;
  };
}
