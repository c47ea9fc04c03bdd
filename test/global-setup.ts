import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { pino } from 'pino';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { ensureDatabase, migrate } from '../src/store/migrate.js';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    redisUrl: string;
  }
}

/** One fresh, migrated database per test run, dropped at the end; tests isolate themselves by job id. */
export default async function setup(project: TestProject) {
  const server = new URL(process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres');
  const databaseName = `smileid_test_${randomBytes(4).toString('hex')}`;
  server.pathname = `/${databaseName}`;
  const databaseUrl = server.toString();
  const log = pino({ level: 'warn' });
  await ensureDatabase(databaseUrl, log);
  await migrate(databaseUrl, log);
  project.provide('databaseUrl', databaseUrl);
  project.provide('redisUrl', process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');

  return async () => {
    const maintenance = new URL(databaseUrl);
    maintenance.pathname = '/postgres';
    const client = new pg.Client({ connectionString: maintenance.toString() });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(databaseName)} WITH (FORCE)`);
    await client.end();
  };
}
