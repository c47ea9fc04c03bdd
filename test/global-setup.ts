import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { ensureLocalBucket } from '../src/local-s3/local-bucket.js';
import { startLocalS3 } from '../src/local-s3/server.js';
import { ensureDatabase, migrate } from '../src/store/migrate.js';
import { TEST_BUCKET } from './helpers/object-store-settings.js';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    redisUrl: string;
    /** The S3-compatible server every test's photos go to, through the S3 protocol. */
    objectStoreUrl: string;
  }
}

/**
 * One fresh, migrated database per test run, dropped at the end; tests isolate themselves by job id. One
 * S3-compatible server (src/local-s3/) on a folder of its own, with the bucket every test writes photos to.
 */
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
  const objectsDirectory = await mkdtemp(path.join(os.tmpdir(), 'smileid-test-objects-'));
  const objectStore = await startLocalS3({ directory: objectsDirectory });
  await ensureLocalBucket(objectStore.url, TEST_BUCKET);
  project.provide('objectStoreUrl', objectStore.url);

  return async () => {
    await objectStore.close();
    await rm(objectsDirectory, { recursive: true, force: true });
    const maintenance = new URL(databaseUrl);
    maintenance.pathname = '/postgres';
    const client = new pg.Client({ connectionString: maintenance.toString() });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(databaseName)} WITH (FORCE)`);
    await client.end();
  };
}
