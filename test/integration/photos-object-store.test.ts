import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_POLL_MODEL } from '../../src/domain/poll-schedule.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { createStatusCheck } from '../../src/reconcile/check-status.js';
import { sealedKeyId } from '../../src/security/field-cipher.js';
import {
  idInfoCallback,
  resultCallback,
  type SimulatedJob,
  simulatedJob,
} from '../../src/simulator/callbacks.js';
import { jobStatusAt } from '../../src/simulator/job-lives.js';
import { createEventQueries, type EventRow } from '../../src/store/evidence/event-queries.js';
import { createStatusStore } from '../../src/store/evidence/status-store.js';
import { parseObjectKey } from '../../src/store/objects/body-vault.js';
import { countWholeBodies } from '../../src/store/objects/inline-bodies.js';
import { createTestApp, PII_TOKEN, type TestApp } from '../helpers/app.js';
import { postCallback, signed } from '../helpers/callbacks.js';
import { createScratchDatabase, type ScratchDatabase } from '../helpers/database.js';
import { testObjectStoreEnv } from '../helpers/object-store-settings.js';
import { freePort, spawnService } from '../helpers/processes.js';
import { silentLogger, unreachableSmileId } from '../helpers/status.js';
import { bearer } from '../http/api-fixtures.js';

/**
 * Photos leave Postgres: a stored body keeps a few KiB in its row, its photo is a sealed object in the
 * object store (the test run's S3-compatible server, spoken to over the S3 protocol), and what is read
 * back is the body as received, byte for byte.
 */

const PHOTO_CHARS = 1_400_000;

/**
 * This file works on a database of its own, and sweeps its bucket for orphans: its photos take a key
 * prefix of their own, so that no other test's objects look like orphans to it.
 */
const OWN_PREFIX = `photos-test-${randomBytes(4).toString('hex')}/`;

/** The environment that points a process at the same object store as `app`. */
const objectStoreEnvOf = (app: TestApp) =>
  testObjectStoreEnv(app.config.AWS_ENDPOINT_URL_S3!, app.config.OBJECT_STORE_PREFIX);

interface StoredEvent {
  id: string;
  bodyBytes: number;
  rowBytes: number | null;
  bodyObjects: number | null;
  contentHash: string;
}

describe('photos in the object store', () => {
  let scratch: ScratchDatabase;
  let t: TestApp;
  const metrics = createMetrics({ defaultMetrics: false });

  beforeAll(async () => {
    scratch = await createScratchDatabase();
    t = await createTestApp({ env: { DATABASE_URL: scratch.url, OBJECT_STORE_PREFIX: OWN_PREFIX }, metrics });
  });
  afterAll(async () => {
    await t?.close();
    await scratch?.drop();
  });

  const events = async (jobId: string, table = 'callback_events') =>
    (
      await t.db.pool.query<StoredEvent>(
        `SELECT id, body_bytes AS "bodyBytes", octet_length(body) AS "rowBytes", body_objects AS "bodyObjects",
                content_hash AS "contentHash"
           FROM ${table} WHERE job_id = $1 ORDER BY body_bytes DESC`,
        [jobId],
      )
    ).rows;

  const allKeys = async () => {
    const keys: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await t.storage.objects!.list(after, 1000);
      keys.push(...page.objects.map((object) => object.key));
      after = page.objects.at(-1)?.key;
      if (!page.more) return keys;
    }
  };

  const readBodies = async (jobId: string) => {
    const queries = createEventQueries({ pool: t.db.pool, vault: t.storage.vault });
    const listed = await queries.list(jobId, { limit: 20, cursor: undefined });
    return queries.bodies(jobId, listed.events as EventRow[]);
  };

  async function storeIdCallback(job: SimulatedJob) {
    const body = signed(idInfoCallback(job, { photoBytes: PHOTO_CHARS }));
    const response = await postCallback(t.app, body);
    expect(response.statusCode).toBe(200);
    return { body, raw: Buffer.from(JSON.stringify(body)), eventId: response.json().eventId as string };
  }

  it('keeps the ID photo out of its row: a few KiB in Postgres, the sealed photo an object whose key names nothing of the body', async () => {
    const job = simulatedJob();
    const { body, eventId } = await storeIdCallback(job);
    const [event] = await events(job.jobId);
    expect(event).toMatchObject({ id: eventId, bodyObjects: 1 });
    expect(event!.bodyBytes).toBeGreaterThan(PHOTO_CHARS);
    expect(event!.rowBytes).toBeLessThan(4096);

    const key = `callback_events/${eventId}/0`;
    expect(await allKeys()).toContain(key);
    expect(parseObjectKey(key)).toEqual({ ref: { table: 'callback_events', id: eventId }, part: 0 });
    for (const value of [job.jobId, job.userId, job.idNumber, job.smileJobId])
      expect(key).not.toContain(value);

    const object = await t.storage.objects!.get(key);
    const photo = String(body.Photo);
    const jpeg = Buffer.from(photo, 'base64');
    expect(sealedKeyId(object)).toBe(t.cipher.currentKeyId);
    expect(object.includes(photo.slice(500_000, 500_064))).toBe(false);
    expect(object.includes(jpeg.subarray(400_000, 400_048))).toBe(false);
    // Sealed decoded, a quarter smaller than the base64 text it was sent as.
    expect(object.length).toBeLessThan(PHOTO_CHARS * 0.76);
  });

  it('gives the body back byte for byte: its SHA-256 is the stored digest, and ?include=body shows it as sent, signature withheld', async () => {
    const job = simulatedJob();
    const { body, raw } = await storeIdCallback(job);
    const [event] = await events(job.jobId);
    const [opened] = await readBodies(job.jobId);
    expect(opened!.body!.equals(raw)).toBe(true);
    expect(createHash('sha256').update(opened!.body!).digest('hex')).toBe(event!.contentHash);

    const response = await t.app.inject({
      method: 'GET',
      url: `/v1/jobs/${job.jobId}/events?include=body`,
      headers: bearer(PII_TOKEN),
    });
    expect(response.statusCode).toBe(200);
    expect(response.json().items[0].body).toEqual({ ...body, signature: '[redacted]' });
  });

  it('takes the photo out of a job_status answer that carries it in its history, and reads the answer back whole', async () => {
    const job = simulatedJob();
    await storeIdCallback(job);
    const statusBody = {
      ...jobStatusAt('approved', job, 10_000_000, { photoBytes: PHOTO_CHARS }),
      timestamp: 'ts',
      signature: 'sig',
    };
    const raw = Buffer.from(JSON.stringify(statusBody));
    expect(raw.length).toBeGreaterThan(PHOTO_CHARS);
    const check = createStatusCheck({
      store: createStatusStore({ pool: t.db.pool, cipher: t.cipher, vault: t.storage.vault }),
      client: unreachableSmileId,
      log: silentLogger,
      pollModel: { ...DEFAULT_POLL_MODEL, horizonMs: 3_600_000 },
      policy: t.config.DECISION_POLICY,
    });
    const answer = { kind: 'status' as const, body: statusBody, raw, timestamp: 'ts', signature: 'sig' };
    expect(await check.apply(job.jobId, answer, new Date())).toBeDefined();
    const [snapshot] = await events(job.jobId, 'status_snapshots');
    expect(snapshot!.bodyObjects).toBeGreaterThanOrEqual(1);
    expect(snapshot!.rowBytes).toBeLessThan(8192);
    const opened = (await readBodies(job.jobId)).find((each) => each.id === snapshot!.id);
    expect(opened!.body!.equals(raw)).toBe(true);

    // The same answer again is not stored twice, and leaves no object behind.
    const before = await allKeys();
    expect(await check.apply(job.jobId, answer, new Date())).toBeDefined();
    await expect.poll(allKeys, { timeout: 3000 }).toEqual(before);
  });

  it('leaves no object behind for a callback delivered twice', async () => {
    const job = simulatedJob();
    const body = signed(idInfoCallback(job, { photoBytes: 50_000 }));
    expect((await postCallback(t.app, body)).json().status).toBe('accepted');
    const before = await allKeys();
    const again = await postCallback(t.app, body);
    expect(again.json().status).toBe('duplicate');
    await expect.poll(allKeys, { timeout: 3000 }).toEqual(before);
  });

  it('keeps callbacks whole in Postgres while the object store does not answer, and moves them out once it does', async () => {
    const down = await createTestApp({
      env: {
        DATABASE_URL: scratch.url,
        OBJECT_STORE_PREFIX: OWN_PREFIX,
        AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${await freePort()}`,
        OBJECT_STORE_TIMEOUT_MS: '300',
      },
      metrics,
    });
    const job = simulatedJob();
    let body: Record<string, unknown>;
    try {
      body = signed(idInfoCallback(job, { photoBytes: 200_000 }));
      const response = await postCallback(down.app, body);
      expect(response.statusCode).toBe(200);
      expect(response.json().status).toBe('accepted');
      // Another at once: the store is not asked again for a few seconds, so callbacks do not wait on it.
      const started = Date.now();
      expect((await postCallback(down.app, signed(resultCallback(job)))).statusCode).toBe(200);
      expect(Date.now() - started).toBeLessThan(300);
      // Said once, as Postgres and Redis outages are: where, set by which variable, and what to try.
      const said = down
        .logs()
        .match(
          /Object store at 127\.0\.0\.1:\d+\/smileid-test is unreachable \(object store put failed: [^)]*\); bodies are kept whole in Postgres/g,
        );
      expect(said).toHaveLength(1);
      expect(down.logs()).toMatch(/"variable":"AWS_ENDPOINT_URL_S3"/);
    } finally {
      await down.close();
    }
    const [whole] = await events(job.jobId);
    expect(whole).toMatchObject({ bodyObjects: null });
    expect(whole!.rowBytes).toBeGreaterThan(200_000);
    expect(await countWholeBodies(t.db.pool)).toBeGreaterThanOrEqual(1);
    expect(
      (await metrics.bodiesKeptInline.get()).values.find((value) => value.labels.source === 'callback')
        ?.value,
    ).toBeGreaterThanOrEqual(1);

    for (;;) if ((await t.storage.inlineBodies!.moveOutBatch(10)).examined === 0) break;
    expect(await countWholeBodies(t.db.pool)).toBe(0);
    const [moved] = await events(job.jobId);
    expect(moved).toMatchObject({ bodyObjects: 1 });
    expect(moved!.rowBytes).toBeLessThan(4096);
    const opened = await readBodies(job.jobId);
    expect(
      opened.find((each) => each.id === moved!.id)!.body!.equals(Buffer.from(JSON.stringify(body!))),
    ).toBe(true);
    // The result callback had nothing bulky: looked at, left as it was.
    expect((await events(job.jobId)).map((event) => event.bodyObjects)).toEqual([1, 0]);
  });

  it("moves an existing deployment's photos out with `npm run bodies:move-out`, in batches, resumably", async () => {
    // Bodies stored whole, as a deployment without an object store stored them.
    const before = await createTestApp({
      env: {
        DATABASE_URL: scratch.url,
        OBJECT_STORE_PREFIX: OWN_PREFIX,
        OBJECT_STORE_BUCKET: '',
        OBJECT_STORE_INLINE: 'true',
      },
    });
    const stored: Array<{ jobId: string; raw: Buffer }> = [];
    try {
      for (let index = 0; index < 3; index += 1) {
        const job = simulatedJob();
        const body = signed(idInfoCallback(job, { photoBytes: 30_000 }));
        expect((await postCallback(before.app, body)).statusCode).toBe(200);
        stored.push({ jobId: job.jobId, raw: Buffer.from(JSON.stringify(body)) });
      }
    } finally {
      await before.close();
    }
    expect(await countWholeBodies(t.db.pool)).toBeGreaterThanOrEqual(3);
    const mover = spawnService(
      {
        ...objectStoreEnvOf(t),
        DATABASE_URL: scratch.url,
        OBJECT_STORE_PREFIX: OWN_PREFIX,
        LOG_LEVEL: 'info',
      },
      'src/cli/move-out.ts',
      ['2'],
    );
    const [code] = await once(mover.child, 'exit');
    expect(code, mover.output()).toBe(0);
    expect(mover.output()).toMatch(/batch moved/);
    expect(mover.output()).toMatch(/every stored body keeps its photos in the object store/);
    expect(await countWholeBodies(t.db.pool)).toBe(0);
    for (const { jobId, raw } of stored) {
      const [event] = await events(jobId);
      expect(event!.bodyObjects).toBe(1);
      expect((await readBodies(jobId))[0]!.body!.equals(raw)).toBe(true);
    }
  });

  it('answers 503 OBJECT_STORE_UNAVAILABLE with Retry-After for bodies whose photos it cannot fetch', async () => {
    const job = simulatedJob();
    await storeIdCallback(job);
    const down = await createTestApp({
      env: {
        DATABASE_URL: scratch.url,
        OBJECT_STORE_PREFIX: OWN_PREFIX,
        AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${await freePort()}`,
        OBJECT_STORE_TIMEOUT_MS: '300',
      },
    });
    try {
      const response = await down.app.inject({
        method: 'GET',
        url: `/v1/jobs/${job.jobId}/events?include=body`,
        headers: bearer(PII_TOKEN),
      });
      expect(response.statusCode).toBe(503);
      expect(response.headers['retry-after']).toBe('5');
      expect(response.json().error.code).toBe('OBJECT_STORE_UNAVAILABLE');
    } finally {
      await down.close();
    }
  });

  const objectsOf = async (jobId: string) => {
    const ids = new Set((await events(jobId)).map((event) => event.id));
    return (await allKeys()).filter((key) => ids.has(parseObjectKey(key)?.ref.id ?? ''));
  };

  it('erases the photos with the bodies and counts them; with the store down, Postgres is erased all the same and a repeat removes them', async () => {
    const job = simulatedJob();
    await storeIdCallback(job);
    expect(await objectsOf(job.jobId)).toHaveLength(1);
    const down = await createTestApp({
      env: {
        DATABASE_URL: scratch.url,
        OBJECT_STORE_PREFIX: OWN_PREFIX,
        AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${await freePort()}`,
        OBJECT_STORE_TIMEOUT_MS: '300',
      },
    });
    const erase = (app: TestApp) =>
      app.app.inject({
        method: 'DELETE',
        url: `/v1/users/${job.userId}/identity-data`,
        headers: bearer(PII_TOKEN),
      });
    try {
      const refused = await erase(down);
      expect(refused.statusCode).toBe(503);
      expect(refused.json().error.code).toBe('OBJECT_STORE_UNAVAILABLE');
    } finally {
      await down.close();
    }
    expect((await events(job.jobId)).map((event) => event.rowBytes)).toEqual([null]);
    const repeated = await erase(t);
    expect(repeated.statusCode).toBe(200);
    expect(repeated.json()).toMatchObject({ jobs: 1, callbackBodies: 0, objects: 1 });
    expect(await objectsOf(job.jobId)).toEqual([]);
    expect((await erase(t)).json()).toMatchObject({ callbackBodies: 0, objects: 0 });
  });

  it('re-seals the photos under the newest key with their rows, and they still read back whole', async () => {
    const job = simulatedJob();
    const { raw } = await storeIdCallback(job);
    const newKey = `k-photos:${Buffer.alloc(32, 9).toString('base64')}`;
    const rotated = await createTestApp({
      env: {
        DATABASE_URL: scratch.url,
        OBJECT_STORE_PREFIX: OWN_PREFIX,
        DATA_ENCRYPTION_KEYS: `${newKey},${t.config.DATA_ENCRYPTION_KEYS.join(',')}`,
      },
    });
    try {
      const { reencryptAll } = await import('../../src/store/identity/identity-maintenance.js');
      expect(await reencryptAll(rotated.db.pool, rotated.cipher, rotated.storage.vault)).toBeGreaterThan(0);
      const [key] = await objectsOf(job.jobId);
      expect(sealedKeyId(await rotated.storage.objects!.get(key!))).toBe('k-photos');
      const queries = createEventQueries({ pool: rotated.db.pool, vault: rotated.storage.vault });
      const listed = await queries.list(job.jobId, { limit: 20, cursor: undefined });
      const [opened] = await queries.bodies(job.jobId, listed.events);
      expect(opened!.body!.equals(raw)).toBe(true);
      // Moved back under the first key, so the rest of this file reads with the app's own keyring.
      const back = await createTestApp({
        env: {
          DATABASE_URL: scratch.url,
          OBJECT_STORE_PREFIX: OWN_PREFIX,
          DATA_ENCRYPTION_KEYS: `${t.config.DATA_ENCRYPTION_KEYS.join(',')},${newKey}`,
        },
      });
      await reencryptAll(back.db.pool, back.cipher, back.storage.vault);
      await back.close();
      expect(sealedKeyId(await t.storage.objects!.get(key!))).toBe(t.cipher.currentKeyId);
    } finally {
      await rotated.close();
    }
  });

  it('purges the photos of bodies past retention with them', async () => {
    const job = simulatedJob();
    await storeIdCallback(job);
    const [key] = await objectsOf(job.jobId);
    const { purgeExpired } = await import('../../src/store/identity/identity-maintenance.js');
    const purged = await purgeExpired(t.db.pool, t.storage.vault, new Date(Date.now() + 60_000), 1000);
    expect(purged.objects).toBeGreaterThanOrEqual(1);
    expect(await allKeys()).not.toContain(key);
    expect((await events(job.jobId)).map((event) => [event.rowBytes, event.bodyObjects])).toEqual([
      [null, 0],
    ]);
  });

  it('counts the photos retention could not remove, says so, and leaves them to the orphan sweep', async () => {
    const job = simulatedJob();
    await storeIdCallback(job);
    const [key] = await objectsOf(job.jobId);
    const down = await createTestApp({
      env: {
        DATABASE_URL: scratch.url,
        OBJECT_STORE_PREFIX: OWN_PREFIX,
        AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${await freePort()}`,
        OBJECT_STORE_TIMEOUT_MS: '300',
      },
    });
    try {
      const { createRetentionPurge } = await import('../../src/maintenance/retention.js');
      const purge = createRetentionPurge({
        pool: down.db.pool,
        vault: down.storage.vault,
        changeFeed: { purge: async () => 0 },
        settings: { days: 0, batchSize: 1000 },
        now: () => new Date(Date.now() + 60_000),
      });
      const purged = await purge(down.app.log);
      expect(purged).toMatchObject({ objects: 0 });
      expect(purged.objectsLeft).toBeGreaterThanOrEqual(1);
      expect(down.logs()).toMatch(
        /the object store did not remove the photos of some purged bodies: the orphan sweep removes them/,
      );
    } finally {
      await down.close();
    }
    // The row no longer refers to it: an orphan, for the sweep.
    expect(await allKeys()).toContain(key);
    expect((await events(job.jobId)).map((event) => event.rowBytes)).toEqual([null]);
  });

  it('removes objects no body refers to once past their grace, and nothing else', async () => {
    const job = simulatedJob();
    const { eventId } = await storeIdCallback(job);
    const orphan = `callback_events/${crypto.randomUUID()}/0`;
    const beyondTheBody = `callback_events/${eventId}/3`;
    const foreign = `exports/${randomBytes(4).toString('hex')}.csv`;
    for (const key of [orphan, beyondTheBody, foreign]) await t.storage.objects!.put(key, Buffer.from('x'));
    const { createOrphanSweep } = await import('../../src/store/objects/orphans.js');
    const young = createOrphanSweep({ pool: t.db.pool, objects: t.storage.objects!, graceMs: 60_000 });
    expect((await young()).removed).toBe(0);
    const sweep = createOrphanSweep({
      pool: t.db.pool,
      objects: t.storage.objects!,
      graceMs: 0,
      now: () => new Date(Date.now() + 1000),
    });
    let removed = 0;
    for (;;) {
      const run = await sweep();
      removed += run.removed;
      if (run.wrapped) break;
    }
    const keys = await allKeys();
    expect(keys).not.toContain(orphan);
    expect(keys).not.toContain(beyondTheBody);
    expect(keys).toContain(foreign);
    expect(keys).toContain(`callback_events/${eventId}/0`);
    expect(removed).toBeGreaterThanOrEqual(2);
    // Every object left is one a stored body refers to, or not one of ours.
    for (const key of keys) {
      const made = parseObjectKey(key);
      if (!made) continue;
      const { rows } = await t.db.pool.query(
        `SELECT 1 FROM ${made.ref.table} WHERE id = $1 AND body IS NOT NULL AND body_objects > $2`,
        [made.ref.id, made.part],
      );
      expect(rows, key).toHaveLength(1);
    }
  });
});
