import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_POLL_MODEL } from '../../src/domain/poll-schedule.js';
import { type LocalS3, startLocalS3 } from '../../src/local-s3/server.js';
import { createStatusCheck } from '../../src/reconcile/check-status.js';
import {
  idInfoCallback,
  resultCallback,
  type SimulatedJob,
  simulatedJob,
  smileSecureCallback,
} from '../../src/simulator/callbacks.js';
import { jobStatusAt } from '../../src/simulator/job-lives.js';
import { createEventQueries } from '../../src/store/evidence/event-queries.js';
import { createStatusStore } from '../../src/store/evidence/status-store.js';
import { createObjectStore } from '../../src/store/objects/object-store.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { postCallback, signed } from '../helpers/callbacks.js';
import { createScratchDatabase, type ScratchDatabase, scratchDatabaseUrl } from '../helpers/database.js';
import { testObjectStoreEnv, testObjectStoreSettings } from '../helpers/object-store-settings.js';
import { silentLogger, unreachableSmileId } from '../helpers/status.js';

/**
 * What a backup of Postgres holds: with photos in the object store, `pg_dump --data-only` of a database
 * with jobs holds no photo, neither as sent (base64), nor decoded, nor sealed; and Postgres restored
 * together with the bucket gives back every stored body, byte for byte.
 */

const run = promisify(execFile);
const PHOTO_CHARS = 300_000;

describe('a backup of Postgres, photos in the object store', () => {
  let scratch: ScratchDatabase;
  let t: TestApp;
  const prefix = `backup-${Date.now()}/`;
  const jobs: SimulatedJob[] = [simulatedJob(), simulatedJob(), simulatedJob()];
  const photos: string[] = [];

  beforeAll(async () => {
    scratch = await createScratchDatabase();
    t = await createTestApp({ env: { DATABASE_URL: scratch.url, OBJECT_STORE_PREFIX: prefix } });
    const check = createStatusCheck({
      store: createStatusStore({ pool: t.db.pool, cipher: t.cipher, vault: t.storage.vault }),
      client: unreachableSmileId,
      log: silentLogger,
      pollModel: { ...DEFAULT_POLL_MODEL, horizonMs: 3_600_000 },
      policy: t.config.DECISION_POLICY,
    });
    for (const job of jobs) {
      const idInfo = idInfoCallback(job, { photoBytes: PHOTO_CHARS });
      photos.push(String(idInfo.Photo));
      for (const body of [resultCallback(job, 'provisional'), idInfo, smileSecureCallback(job)]) {
        expect((await postCallback(t.app, signed(body))).statusCode).toBe(200);
      }
      // job_status answers with the photo in their history, as Smile ID's do.
      for (const life of ['review', 'approved'] as const) {
        const statusBody = {
          ...jobStatusAt(life, job, 10_000_000, { photoBytes: PHOTO_CHARS }),
          timestamp: 'ts',
          signature: 'sig',
        };
        const raw = Buffer.from(JSON.stringify(statusBody));
        const answer = { kind: 'status' as const, body: statusBody, raw, timestamp: 'ts', signature: 'sig' };
        expect(await check.apply(job.jobId, answer, new Date())).toBeDefined();
      }
    }
  });
  afterAll(async () => {
    await t?.close();
    await scratch?.drop();
  });

  /** Every stored body of a job, as its app reads it, with its row's digest. */
  async function storedBodies(app: TestApp, jobId: string) {
    const queries = createEventQueries({ pool: app.db.pool, vault: app.storage.vault });
    const { events } = await queries.list(jobId, { limit: 50, cursor: undefined });
    const opened = new Map((await queries.bodies(jobId, events)).map((each) => [each.id, each.body]));
    return events.map((event) => ({ ...event, body: opened.get(event.id) ?? null }));
  }

  it('holds no photo bytes in `pg_dump --data-only`: not as sent, not decoded, not sealed', async () => {
    const { stdout: dump } = await run('pg_dump', ['--data-only', '--no-owner', scratch.url], {
      maxBuffer: 256 * 1024 * 1024,
    });
    // Sealed bodies are in the dump as bytea hex: look for photo bytes in both forms.
    const hex = (bytes: Buffer) => bytes.toString('hex');
    for (const photo of photos) {
      const decoded = Buffer.from(photo, 'base64');
      expect(dump).not.toContain(photo.slice(100_000, 100_064));
      expect(dump).not.toContain(hex(Buffer.from(photo.slice(100_000, 100_064))));
      expect(dump).not.toContain(hex(decoded.subarray(100_000, 100_048)));
    }
    const objects = createObjectStore(testObjectStoreSettings(t.config.AWS_ENDPOINT_URL_S3!, prefix));
    const { objects: listed } = await objects.list(undefined, 1000);
    // One per ID callback, and one per job_status answer whose history carries the photo.
    expect(listed.length).toBeGreaterThanOrEqual(jobs.length * 2);
    for (const { key } of listed) {
      const sealed = await objects.get(key);
      expect(dump).not.toContain(hex(sealed.subarray(sealed.length / 2, sealed.length / 2 + 48)));
    }
    objects.close();
    // A few KiB a body: the dump of 3 jobs is far below one photo.
    expect(dump.length).toBeLessThan(PHOTO_CHARS);
  });

  it('gives back every body, byte for byte, from Postgres restored and the bucket restored', async () => {
    const restoredDatabase = scratchDatabaseUrl();
    const bucketCopy = await mkdtemp(path.join(os.tmpdir(), 'restored-bucket-'));
    let restoredBucket: LocalS3 | undefined;
    let restored: TestApp | undefined;
    try {
      // Postgres: a dump and a restore into a new database.
      const { stdout: schemaAndData } = await run('pg_dump', ['--no-owner', '--no-privileges', scratch.url], {
        maxBuffer: 256 * 1024 * 1024,
      });
      await run('psql', [
        t.config.DATABASE_URL.replace(/\/[^/]+$/, '/postgres'),
        '-c',
        `CREATE DATABASE ${new URL(restoredDatabase.url).pathname.slice(1)}`,
      ]);
      const restore = execFile('psql', ['-v', 'ON_ERROR_STOP=1', '-q', restoredDatabase.url]);
      restore.stdin!.end(schemaAndData);
      await new Promise<void>((resolve, reject) =>
        restore.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`psql exited ${code}`)))),
      );
      // The bucket: every object copied to another S3-compatible server, as a bucket backup restores it.
      restoredBucket = await startLocalS3({ directory: bucketCopy });
      const from = createObjectStore(testObjectStoreSettings(t.config.AWS_ENDPOINT_URL_S3!, prefix));
      const to = createObjectStore(testObjectStoreSettings(restoredBucket.url, prefix));
      await to.ensureBucket();
      for (const { key } of (await from.list(undefined, 1000)).objects)
        await to.put(key, await from.get(key));
      from.close();
      to.close();

      restored = await createTestApp({
        env: {
          DATABASE_URL: restoredDatabase.url,
          ...testObjectStoreEnv(restoredBucket.url, prefix),
        },
      });
      let bodies = 0;
      for (const job of jobs) {
        const original = await storedBodies(t, job.jobId);
        const back = await storedBodies(restored, job.jobId);
        expect(back.map((event) => event.id)).toEqual(original.map((event) => event.id));
        for (const [index, event] of back.entries()) {
          expect(event.body, event.id).not.toBeNull();
          expect(event.body!.equals(original[index]!.body!)).toBe(true);
          if (event.source === 'callback') {
            expect(createHash('sha256').update(event.body!).digest('hex')).toBe(event.contentHash);
          }
          bodies += 1;
        }
      }
      expect(bodies).toBe(jobs.length * 5);
    } finally {
      await restored?.close();
      await restoredBucket?.close();
      await rm(bucketCopy, { recursive: true, force: true });
      await restoredDatabase.drop();
    }
  });
});
