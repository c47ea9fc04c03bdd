import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { pino } from 'pino';
import { inject } from 'vitest';
import { createDatabase, type Database, postgresOutages } from '../../src/store/connections.js';
import { ensureDatabase, migrate } from '../../src/store/migrate.js';

export interface ScratchDatabase {
  url: string;
  /** Drops the database, whatever still holds connections to it. */
  drop: () => Promise<void>;
}

/** The address of a database of the test's own on the test server, not created yet. */
export function scratchDatabaseUrl(): ScratchDatabase {
  const url = new URL(inject('databaseUrl'));
  const name = `smileid_scratch_${randomBytes(4).toString('hex')}`;
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const admin = new pg.Client({ connectionString: inject('databaseUrl') });
      await admin.connect();
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}

/**
 * A migrated database of the test's own, for tests whose work spans the whole database (re-encryption,
 * retention, listings that count every job) and must not meet other tests' rows.
 */
export async function createScratchDatabase(): Promise<ScratchDatabase> {
  const scratch = scratchDatabaseUrl();
  const log = pino({ level: 'silent' });
  await ensureDatabase(scratch.url, log);
  await migrate(scratch.url, log);
  return scratch;
}

/**
 * The service's pool on `url`, its Postgres outages said on the test's output (warn and above): a test
 * that loses its database shows why.
 */
export function testDatabase(url: string, { poolSize = 2, timeoutMs = 5000 } = {}): Database {
  return createDatabase({
    url,
    poolSize,
    timeoutMs,
    outages: postgresOutages(url, pino({ level: 'warn' })),
  });
}
