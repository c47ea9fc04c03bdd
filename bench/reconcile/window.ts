import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { POPULATION_SQL, POPULATIONS, type PopulationId } from './jobs.js';

/**
 * The timed window, seen from Postgres: the jobs are held back while the workers start, made due all
 * at once, and counted (`is_final AND confirmed`) until every one is confirmed.
 */

const POLL_INTERVAL_MS = 250;
const PROGRESS_EVERY_MS = 5000;

/** Pushes every check a day ahead, so workers can start and settle before the clock does. */
export async function holdBack(pool: pg.Pool): Promise<void> {
  await pool.query(`UPDATE jobs SET next_check_at = now() + interval '1 day'`);
}

/** Starts the window: every job is due at `at`, as if they had all piled up at once. */
export async function makeAllDue(pool: pg.Pool, at: Date): Promise<void> {
  await pool.query('UPDATE jobs SET next_check_at = $1', [at]);
}

/** Refuses to measure unless seeding left exactly the intended rows: final-unconfirmed and pending. */
export async function checkSeeded(pool: pg.Pool, expected: Record<PopulationId, number>): Promise<void> {
  const { rows } = await pool.query<{ population: string; jobs: number; ready: number }>(
    // Ready: final jobs are final and silent ones are not; none is confirmed yet.
    `SELECT ${POPULATION_SQL} AS population, count(*)::int AS jobs,
            count(*) FILTER (WHERE NOT confirmed AND is_final = (${POPULATION_SQL} = 'final'))::int AS ready
       FROM jobs GROUP BY 1`,
  );
  for (const { id } of POPULATIONS) {
    const row = rows.find((each) => each.population === id);
    if (row?.jobs !== expected[id] || row.ready !== expected[id]) {
      throw new Error(
        `seeding left ${JSON.stringify(row ?? {})} for population ${id}, expected ${expected[id]}`,
      );
    }
  }
}

export interface Confirmed {
  confirmed: number;
  /** The worker's clock when it wrote the last confirmation: the population's end of the window. */
  lastAt: Date | null;
}

export async function confirmedSoFar(pool: pg.Pool): Promise<Record<PopulationId, Confirmed>> {
  const { rows } = await pool.query<{ population: string; confirmed: number; lastAt: Date | null }>(
    `SELECT ${POPULATION_SQL} AS population, count(*)::int AS confirmed, max(last_checked_at) AS "lastAt"
       FROM jobs WHERE is_final AND confirmed GROUP BY 1`,
  );
  const byPopulation = (id: PopulationId): Confirmed => {
    const row = rows.find((each) => each.population === id);
    return { confirmed: row?.confirmed ?? 0, lastAt: row?.lastAt ?? null };
  };
  return Object.fromEntries(POPULATIONS.map(({ id }) => [id, byPopulation(id)])) as Record<
    PopulationId,
    Confirmed
  >;
}

/**
 * Polls until `total` jobs are confirmed or `timeoutMs` has passed; returns whether all were.
 * `assertAlive` throws if a process the window depends on has died, so a crash is not a hang.
 */
export async function waitUntilConfirmed(
  pool: pg.Pool,
  total: number,
  { timeoutMs, assertAlive }: { timeoutMs: number; assertAlive: () => void },
): Promise<boolean> {
  const started = Date.now();
  let lastProgress = started;
  for (;;) {
    assertAlive();
    const counts = Object.values(await confirmedSoFar(pool));
    const confirmed = counts.reduce((sum, each) => sum + each.confirmed, 0);
    if (confirmed >= total) return true;
    const elapsed = Date.now() - started;
    if (elapsed >= timeoutMs) return false;
    if (Date.now() - lastProgress >= PROGRESS_EVERY_MS) {
      lastProgress = Date.now();
      console.log(`    ${(elapsed / 1000).toFixed(0).padStart(4)} s: ${confirmed} of ${total} confirmed`);
    }
    await sleep(POLL_INTERVAL_MS);
  }
}
