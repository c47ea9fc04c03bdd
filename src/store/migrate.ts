import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';
import { explainUnreachable } from '../util/outages.js';
import { postgresDependency } from './connections.js';

/**
 * Applies prisma/migrations/*\/migration.sql in order, recording each in Prisma's own
 * `_prisma_migrations` table (so `prisma migrate status` agrees), without Prisma's schema engine,
 * which cannot be downloaded here. An advisory lock makes concurrent starts of many instances safe:
 * one applies, the others wait and then find nothing to do.
 */

/** Any fixed 64-bit key; it only has to be the same for every instance of this service. */
const MIGRATION_LOCK_KEY = 7_236_118_843_021;

const BOOKKEEPING_DDL = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id"                  VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum"            VARCHAR(64) NOT NULL,
  "finished_at"         TIMESTAMPTZ,
  "migration_name"      VARCHAR(255) NOT NULL,
  "logs"                TEXT,
  "rolled_back_at"      TIMESTAMPTZ,
  "started_at"          TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

export const MIGRATIONS_DIRECTORY = path.resolve(import.meta.dirname, '../../prisma/migrations');

interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export async function readMigrations(directory = MIGRATIONS_DIRECTORY): Promise<Migration[]> {
  const entries = await readdir(directory, { withFileTypes: true });
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(path.join(directory, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    }),
  );
}

/** Creates the database named in `databaseUrl` when it does not exist yet. */
export async function ensureDatabase(databaseUrl: string, log: Logger): Promise<void> {
  const target = new URL(databaseUrl);
  const name = decodeURIComponent(target.pathname.slice(1));
  const maintenance = new URL(databaseUrl);
  maintenance.pathname = '/postgres';
  const client = new pg.Client({ connectionString: maintenance.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 0) {
      await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`).catch((error: { code?: string }) => {
        // A concurrent start created it first: 42P04, or 23505 when both passed the check above.
        if (error.code !== '42P04' && error.code !== '23505') throw error;
      });
      log.info({ database: name }, 'created database');
    }
  } finally {
    await client.end();
  }
}

/**
 * What a start does before anything else: the database created if need be, and migrated. A Postgres
 * that cannot be reached stops it with which one, where, and what to try.
 */
export async function prepareDatabase(databaseUrl: string, log: Logger): Promise<void> {
  try {
    await ensureDatabase(databaseUrl, log);
    await migrate(databaseUrl, log);
  } catch (error) {
    throw explainUnreachable(error, postgresDependency(databaseUrl));
  }
}

const LOCK_POLL_MS = 100;

/**
 * The migration lock, asked for again and again rather than waited for in one statement: a concurrent
 * index build waits for every statement that began before it, and a statement waiting for the lock that
 * its builder holds would never end.
 */
async function takeMigrationLock(client: pg.Client): Promise<void> {
  for (;;) {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [
      MIGRATION_LOCK_KEY,
    ]);
    if (rows[0]?.locked) return;
    await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
  }
}

/** Applies pending migrations; returns the names applied by this call. */
export async function migrate(
  databaseUrl: string,
  log: Logger,
  directory = MIGRATIONS_DIRECTORY,
): Promise<string[]> {
  const migrations = await readMigrations(directory);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await takeMigrationLock(client);
    await client.query(BOOKKEEPING_DDL);
    const { rows } = await client.query<{ migration_name: string; checksum: string }>(
      'SELECT migration_name, checksum FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
    );
    const applied = new Map(rows.map((row) => [row.migration_name, row.checksum]));
    const appliedNow: string[] = [];
    for (const migration of migrations) {
      const checksum = applied.get(migration.name);
      if (checksum !== undefined) {
        if (checksum !== migration.checksum) {
          log.warn({ migration: migration.name }, 'applied migration was edited afterwards; not re-applied');
        }
        continue;
      }
      await applyOne(client, migration);
      appliedNow.push(migration.name);
      log.info({ migration: migration.name }, 'applied migration');
    }
    return appliedNow;
  } finally {
    // Ending the session below releases the lock in any case; this only releases it sooner.
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await client.end();
  }
}

/**
 * A migration that is one `CREATE INDEX CONCURRENTLY IF NOT EXISTS`, alone in its file as Prisma Migrate
 * also requires: Postgres builds such an index only outside a transaction, and in exchange lets writes go
 * on while it scans the table. Its index name, or undefined for any other migration.
 */
export function concurrentIndexOf(sql: string): string | undefined {
  const statements = sql
    .replace(/^\s*--.*$/gm, '')
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  if (statements.length !== 1) return undefined;
  return /^CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+IF\s+NOT\s+EXISTS\s+"?(\w+)"?\s+ON\s/i.exec(
    statements[0]!,
  )?.[1];
}

/**
 * A concurrent index: its bookkeeping row first, then the build, then the row finished. A build that
 * failed (or a process that died in it) leaves an invalid index of that name, which IF NOT EXISTS would
 * keep: it is dropped first, and the row of the failed attempt removed, so the next start builds it again.
 */
async function applyConcurrently(client: pg.Client, migration: Migration, index: string): Promise<void> {
  const id = randomUUID();
  const invalid = await client.query(
    'SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = $1 AND NOT i.indisvalid',
    [index],
  );
  if ((invalid.rowCount ?? 0) > 0)
    await client.query(`DROP INDEX CONCURRENTLY IF EXISTS ${pg.escapeIdentifier(index)}`);
  await client.query(
    'INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at) VALUES ($1, $2, $3, now())',
    [id, migration.checksum, migration.name],
  );
  try {
    await client.query(migration.sql);
  } catch (error) {
    // The migration's error is the one to tell; a row left behind has no finished_at, so the migration
    // still counts as not applied and the next run tries it again.
    await client.query('DELETE FROM _prisma_migrations WHERE id = $1', [id]).catch(() => undefined);
    throw error;
  }
  await client.query(
    'UPDATE _prisma_migrations SET finished_at = now(), applied_steps_count = 1 WHERE id = $1',
    [id],
  );
}

/** One migration and its bookkeeping row commit together, so a crash leaves neither half-done. */
async function applyOne(client: pg.Client, migration: Migration): Promise<void> {
  const index = concurrentIndexOf(migration.sql);
  if (index !== undefined) return applyConcurrently(client, migration, index);
  const id = randomUUID();
  await client.query('BEGIN');
  try {
    await client.query(
      'INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at) VALUES ($1, $2, $3, now())',
      [id, migration.checksum, migration.name],
    );
    await client.query(migration.sql);
    await client.query(
      'UPDATE _prisma_migrations SET finished_at = now(), applied_steps_count = 1 WHERE id = $1',
      [id],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  }
}
