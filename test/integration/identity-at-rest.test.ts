import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFieldCipher, parseKeyring, sealedKeyId } from '../../src/security/field-cipher.js';
import {
  idInfoCallback,
  resultCallback,
  type SimulatedJob,
  simulatedJob,
} from '../../src/simulator/callbacks.js';
import { purgeExpired, reencryptAll } from '../../src/store/identity/identity-maintenance.js';
import { createTestApp, PII_TOKEN, type TestApp, testObjectStorage } from '../helpers/app.js';
import { postCallback, signed } from '../helpers/callbacks.js';
import { createScratchDatabase } from '../helpers/database.js';
import { eventually, startService, startSimulator } from '../helpers/service.js';

const newKey = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;

/** Every stored value of the job's rows as text, the way someone reading the database would see it. */
async function everythingStoredFor(t: { db: TestApp['db'] }, jobId: string): Promise<string> {
  const { rows } = await t.db.pool.query<{ dump: string }>(
    `SELECT string_agg(dump, ' ') AS dump FROM (
       SELECT j::text || encode(coalesce(j.id_info, ''), 'escape') AS dump FROM jobs j WHERE job_id = $1
       UNION ALL SELECT e::text || encode(coalesce(e.body, ''), 'escape') FROM callback_events e WHERE job_id = $1
       UNION ALL SELECT s::text || encode(coalesce(s.body, ''), 'escape') FROM status_snapshots s WHERE job_id = $1
     ) everything`,
    [jobId],
  );
  return rows[0]!.dump;
}

function expectNoPlaintextIdentity(stored: string, job: SimulatedJob, photo: string) {
  expect(stored.length).toBeGreaterThan(1000);
  for (const value of [job.fullName, job.idNumber, job.dob, job.phoneNumber, photo.slice(100, 140)]) {
    expect(stored).not.toContain(value);
  }
}

describe('identity data at rest', () => {
  const k1 = newKey('k1');
  let t: TestApp;
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  const env = (keys: string) => ({ DATA_ENCRYPTION_KEYS: keys, DATABASE_URL: scratch.url });
  beforeAll(async () => {
    scratch = await createScratchDatabase();
    t = await createTestApp({ env: env(k1) });
  });
  afterAll(async () => {
    await t.close();
    await scratch.drop();
  });

  const readIdInfo = (app: TestApp['app'], jobId: string) =>
    app.inject({
      method: 'GET',
      url: `/v1/jobs/${jobId}?include=idInfo`,
      headers: { authorization: `Bearer ${PII_TOKEN}` },
    });

  it('keeps no plaintext name, ID number, date of birth, phone number or photo in the database', async () => {
    const job = simulatedJob();
    const idBody = idInfoCallback(job, { photoBytes: 20_000 });
    await postCallback(t.app, signed(idBody));
    await postCallback(t.app, signed(resultCallback(job)));
    expectNoPlaintextIdentity(await everythingStoredFor(t, job.jobId), job, idBody.Photo as string);
    // …while the API still serves it to a PII reader.
    expect((await readIdInfo(t.app, job.jobId)).json().idInfo).toMatchObject({ fullName: job.fullName });
  });

  it('keeps no plaintext identity data from job_status snapshots either', async () => {
    const sim = await startSimulator();
    const service = await startService(sim.url, env(k1));
    try {
      const job = simulatedJob();
      await sim.control('/jobs', {
        jobId: job.jobId,
        userId: job.userId,
        life: 'approved',
        photoBytes: 20_000,
      });
      await service.api('POST', '/v1/jobs', { jobId: job.jobId, userId: job.userId });
      await service.api('POST', `/v1/jobs/${job.jobId}/reconcile`);
      await eventually(async () => (await service.api('GET', `/v1/jobs/${job.jobId}`)).body.confirmed);
      const stored = await everythingStoredFor({ db: service.deps.db }, job.jobId);
      const snapshots = await service.deps.db.pool.query('SELECT 1 FROM status_snapshots WHERE job_id = $1', [
        job.jobId,
      ]);
      expect(snapshots.rowCount).toBeGreaterThan(0);
      for (const value of [job.fullName, job.idNumber, job.dob, job.phoneNumber])
        expect(stored).not.toContain(value);
    } finally {
      await service.close();
      await sim.close();
    }
  });

  it('re-encrypts every row under a new key, after which the old key can go', async () => {
    const job = simulatedJob();
    await postCallback(t.app, signed(idInfoCallback(job)));
    k2 = newKey('k2');
    const rotated = await createTestApp({ env: env(`${k2},${k1}`) });
    try {
      // Old rows stay readable before re-encryption; new rows use the newest key.
      expect((await readIdInfo(rotated.app, job.jobId)).json().idInfo).toMatchObject({
        idNumber: job.idNumber,
      });
      expect(await reencryptAll(rotated.db.pool, rotated.cipher, rotated.storage.vault, 50)).toBeGreaterThan(
        0,
      );
      const { rows } = await rotated.db.pool.query<{ key: string | null }>(
        `SELECT sealed_key_id(id_info) AS key FROM jobs WHERE id_info IS NOT NULL
         UNION ALL SELECT sealed_key_id(body) FROM callback_events WHERE body IS NOT NULL
         UNION ALL SELECT sealed_key_id(body) FROM status_snapshots WHERE body IS NOT NULL`,
      );
      expect(new Set(rows.map((row) => row.key))).toEqual(new Set(['k2']));
    } finally {
      await rotated.close();
    }
    const onlyK2 = await createTestApp({ env: env(k2) });
    try {
      expect((await readIdInfo(onlyK2.app, job.jobId)).json().idInfo).toMatchObject({
        idNumber: job.idNumber,
      });
    } finally {
      await onlyK2.close();
    }
  });

  let k2 = '';

  it('seals plaintext written before encryption existed when re-encrypting', async () => {
    const job = simulatedJob();
    await postCallback(t.app, signed(resultCallback(job)));
    const legacy = Buffer.from(
      JSON.stringify({ fullName: job.fullName, photoProvided: false, documentProvided: false }),
    );
    await t.db.pool.query('UPDATE jobs SET id_info = $2 WHERE job_id = $1', [job.jobId, legacy]);
    expect((await readIdInfo(t.app, job.jobId)).json().idInfo).toMatchObject({ fullName: job.fullName });
    // The database now holds k2 rows (previous test): a cipher knowing both keys moves everything to k1.
    const both = createFieldCipher(parseKeyring([k1, k2]));
    await reencryptAll(t.db.pool, both, testObjectStorage(t.config, both, t.db).vault);
    const { rows } = await t.db.pool.query('SELECT id_info FROM jobs WHERE job_id = $1', [job.jobId]);
    expect(sealedKeyId(rows[0].id_info)).toBe('k1');
    expect(Buffer.from(rows[0].id_info).includes(Buffer.from(job.fullName))).toBe(false);
  });
});

describe('retention', () => {
  it('purges bodies and erases identity fields past the period, keeping outcome, codes and times', async () => {
    const scratch = await createScratchDatabase();
    const sim = await startSimulator();
    const service = await startService(sim.url, {
      DATABASE_URL: scratch.url,
      RETENTION_DAYS: '30',
      RETENTION_INTERVAL_MS: '300',
    });
    try {
      const [old, recent] = [simulatedJob(), simulatedJob()];
      for (const job of [old, recent]) {
        for (const body of [idInfoCallback(job), resultCallback(job)]) {
          await fetch(`${service.baseUrl}/callbacks/smile-id`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(signed(body)),
          });
        }
      }
      // Its bodies age first: a purge that runs between the two updates must not find the job old
      // while its bodies are not.
      await service.deps.db.pool.query(
        `BEGIN; SET LOCAL smileid.maintenance = 'on';
         UPDATE callback_events SET received_at = now() - interval '31 days' WHERE job_id = '${old.jobId}';
         COMMIT;`,
      );
      await service.deps.db.pool.query(
        "UPDATE jobs SET created_at = now() - interval '31 days' WHERE job_id = $1",
        [old.jobId],
      );

      // The scheduled queued job does the purge.
      const purged = await eventually(async () => {
        const { rows } = await service.deps.db.pool.query('SELECT * FROM jobs WHERE job_id = $1', [
          old.jobId,
        ]);
        return rows[0].purged_at ? rows[0] : undefined;
      });
      expect(purged).toMatchObject({ id_info: null, state: 'approved', is_final: true, result_code: '1210' });
      expect(purged.created_at).toBeInstanceOf(Date);
      const events = await service.deps.db.pool.query(
        'SELECT job_id, body, purged_at, content_hash, body_bytes FROM callback_events WHERE job_id = ANY($1)',
        [[old.jobId, recent.jobId]],
      );
      for (const event of events.rows) {
        const expired = event.job_id === old.jobId;
        expect(event.body === null).toBe(expired);
        expect(event.purged_at !== null).toBe(expired);
        expect(event.content_hash).toHaveLength(64);
        expect(event.body_bytes).toBeGreaterThan(0);
      }
      const recentJob = await service.deps.db.pool.query(
        'SELECT id_info, purged_at FROM jobs WHERE job_id = $1',
        [recent.jobId],
      );
      expect(recentJob.rows[0].id_info).not.toBeNull();
      expect(recentJob.rows[0].purged_at).toBeNull();
      // A later callback carrying the ID record does not bring it back.
      await fetch(`${service.baseUrl}/callbacks/smile-id`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(signed({ ...idInfoCallback(old), Gender: 'M' })),
      });
      const afterLateCallback = await service.deps.db.pool.query(
        'SELECT id_info, event_count FROM jobs WHERE job_id = $1',
        [old.jobId],
      );
      expect(afterLateCallback.rows[0]).toMatchObject({ id_info: null, event_count: 3 });
      // The purge is a batch job: once everything is purged a run finds nothing left to do.
      expect(
        await purgeExpired(
          service.deps.db.pool,
          service.deps.storage.vault,
          new Date(Date.now() - 30 * 86_400_000),
          10,
        ),
      ).toMatchObject({
        callbackEvents: 0,
      });
    } finally {
      await service.close();
      await sim.close();
      await scratch.drop();
    }
  });
});
