import pg from 'pg';

export const BASELINE_TABLE = 'bench_baseline';

/** The service's roots; CASCADE also empties every table referencing them, whatever migrations add. */
const SERVICE_TABLES = ['jobs', 'callback_events'];

export function databaseUrl(postgresUrl: string, name: string): string {
  const url = new URL(postgresUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/** Starts every bench from an empty database, so runs are comparable. The service migrates it when it starts. */
export async function recreateBenchDatabase(postgresUrl: string, name: string): Promise<void> {
  await dropBenchDatabase(postgresUrl, name);
  await withClient(postgresUrl, (client) => client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`));
}

/** The intake baseline's only table, stored the way the service stores callback bodies. */
export async function createBaselineTable(url: string): Promise<void> {
  await withClient(url, async (client) => {
    await client.query(
      `CREATE TABLE ${BASELINE_TABLE} (id bigserial PRIMARY KEY, body bytea NOT NULL,
                                       received_at timestamptz NOT NULL DEFAULT now())`,
    );
    // As the service stores callback_events.body: without it, Postgres spends ~15 ms per 1.4 MB body
    // trying to compress incompressible base64, and the baseline would measure pglz, not intake.
    await client.query(`ALTER TABLE ${BASELINE_TABLE} ALTER COLUMN body SET STORAGE EXTERNAL`);
  });
}

/** Leaves no gigabytes of photos behind on a shared machine. */
export async function dropBenchDatabase(postgresUrl: string, name: string): Promise<void> {
  await withClient(postgresUrl, (client) =>
    client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`),
  );
}

/**
 * Empties the tables a run writes and flushes dirty pages, so no run starts with a table the previous
 * one grew, or pays for its checkpoint.
 */
export async function resetTables(url: string, server: 'baseline' | 'service'): Promise<void> {
  const tables = server === 'baseline' ? [BASELINE_TABLE] : SERVICE_TABLES;
  await withClient(url, async (client) => {
    await client.query(`TRUNCATE ${tables.join(', ')} CASCADE`);
    await client.query('CHECKPOINT');
  });
}

/** What a run left in the database: one row per stored body, and for the service, jobs and trust. */
export interface StoredCounts {
  events: number;
  jobs: number | null;
  untrusted: number | null;
}

export async function storedCounts(url: string, server: 'baseline' | 'service'): Promise<StoredCounts> {
  return withClient(url, async (client) => {
    if (server === 'baseline') {
      const { rows } = await client.query<{ events: number }>(
        `SELECT count(*)::int AS events FROM ${BASELINE_TABLE}`,
      );
      return { events: rows[0]!.events, jobs: null, untrusted: null };
    }
    const { rows } = await client.query<StoredCounts>(
      `SELECT (SELECT count(*)::int FROM callback_events) AS events,
              (SELECT count(*)::int FROM jobs) AS jobs,
              (SELECT count(*)::int FROM callback_events WHERE NOT trusted) AS untrusted`,
    );
    return rows[0]!;
  });
}

/**
 * Transactions committed or rolled back in one database so far: with autocommit queries, one per
 * statement. Postgres publishes a backend's counts late (up to ~10 s while it idles) but always when
 * it exits, so read this after the processes under test have stopped.
 */
export async function transactionCount(postgresUrl: string, name: string): Promise<number> {
  return withClient(postgresUrl, async (client) => {
    const { rows } = await client.query<{ count: string }>(
      'SELECT xact_commit + xact_rollback AS count FROM pg_stat_database WHERE datname = $1',
      [name],
    );
    return Number(rows[0]?.count ?? 0);
  });
}
