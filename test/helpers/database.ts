import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { pino } from 'pino';
import { inject } from 'vitest';
import { ensureDatabase, migrate } from '../../src/store/migrate.js';

/**
 * A migrated database of the test's own, for tests whose work spans the whole database (re-encryption,
 * retention) and must not meet other tests' rows.
 */
export async function createScratchDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const url = new URL(inject('databaseUrl'));
  const name = `smileid_scratch_${randomBytes(4).toString('hex')}`;
  url.pathname = `/${name}`;
  const log = pino({ level: 'silent' });
  await ensureDatabase(url.toString(), log);
  await migrate(url.toString(), log);
  return {
    url: url.toString(),
    async drop() {
      const admin = new pg.Client({ connectionString: inject('databaseUrl') });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
      await admin.end();
    },
  };
}
