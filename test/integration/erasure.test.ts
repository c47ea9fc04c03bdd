import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userIdNamedBy } from '../../src/callbacks/named-user.js';
import { DEFAULT_POLL_MODEL } from '../../src/domain/poll-schedule.js';
import { createStatusCheck } from '../../src/reconcile/check-status.js';
import { idInfoCallback, resultCallback, simulatedJob } from '../../src/simulator/callbacks.js';
import { jobStatusAt } from '../../src/simulator/job-lives.js';
import { createStatusStore } from '../../src/store/evidence/status-store.js';
import { reencryptAll } from '../../src/store/identity/identity-maintenance.js';
import { redigestUsers } from '../../src/store/identity/user-digests.js';
import { inTransaction } from '../../src/store/transactions.js';
import { API_TOKEN, createTestApp, PII_TOKEN, type TestApp } from '../helpers/app.js';
import { postCallback, signed } from '../helpers/callbacks.js';
import { createScratchDatabase, type ScratchDatabase } from '../helpers/database.js';
import { expectErrorBody } from '../helpers/http.js';
import { DEFAULT_POLICY, silentLogger, unreachableSmileId } from '../helpers/status.js';
import { bearer } from '../http/api-fixtures.js';

describe('DELETE /v1/users/:userId/identity-data', () => {
  let t: TestApp;
  const erased = simulatedJob();
  const erasedToo = simulatedJob({ userId: erased.userId });
  const kept = simulatedJob();

  beforeAll(async () => {
    t = await createTestApp();
    for (const job of [erased, erasedToo, kept]) {
      expect((await postCallback(t.app, signed(resultCallback(job, 'approved')))).statusCode).toBe(200);
      expect((await postCallback(t.app, signed(idInfoCallback(job)))).statusCode).toBe(200);
    }
  });
  afterAll(() => t?.close());

  const erase = (userId: string, token = PII_TOKEN) =>
    t.app.inject({ method: 'DELETE', url: `/v1/users/${userId}/identity-data`, headers: bearer(token) });
  const read = (jobId: string) =>
    t.app.inject({ method: 'GET', url: `/v1/jobs/${jobId}?include=idInfo`, headers: bearer(PII_TOKEN) });
  const bodies = async (jobId: string) =>
    (
      (
        await t.app.inject({
          method: 'GET',
          url: `/v1/jobs/${jobId}/events?include=body`,
          headers: bearer(PII_TOKEN),
        })
      ).json().items as Array<{ body: unknown }>
    ).map((item) => item.body);

  it('refuses a token that may not read identity data, erasing nothing', async () => {
    expectErrorBody(await erase(erased.userId, API_TOKEN), 403, 'PII_FORBIDDEN');
    expect((await read(erased.jobId)).json().idInfo).not.toBeNull();
  });

  it("erases the ID records and stored bodies of every job of the user, keeping outcomes, and no one else's", async () => {
    const answer = await erase(erased.userId);
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toEqual({
      userId: erased.userId,
      jobs: 2,
      idInfo: 2,
      callbackBodies: 4,
      statusBodies: 0,
      submissions: 0,
      // The photos of their two ID callbacks, in the object store.
      objects: 2,
    });
    for (const job of [erased, erasedToo]) {
      const outcome = (await read(job.jobId)).json();
      expect(outcome).toMatchObject({ jobId: job.jobId, state: 'approved', idInfo: null });
      expect(await bodies(job.jobId)).toEqual([null, null]);
    }
    expect((await read(kept.jobId)).json().idInfo).toMatchObject({ idNumber: kept.idNumber });
    expect((await bodies(kept.jobId)).every((body) => body !== null)).toBe(true);
    const audit = await t.db.pool.query<{ job_id: string }>(
      "SELECT job_id FROM audit_log WHERE data_read = 'erasure' AND job_id = ANY($1) ORDER BY job_id",
      [[erased.jobId, erasedToo.jobId]],
    );
    expect(audit.rows.map((row) => row.job_id)).toEqual([erased.jobId, erasedToo.jobId].sort());
  });

  it('keeps an erased job from taking an ID record from a later callback', async () => {
    expect(
      (await postCallback(t.app, signed({ ...idInfoCallback(erased), Source: 'again' }))).statusCode,
    ).toBe(200);
    expect((await read(erased.jobId)).json().idInfo).toBeNull();
  });

  it('keeps only the digest and metadata of a late ID callback for an erased job, never its body', async () => {
    // Once the late body was stored whole (name, ID number, DOB, photo) and readable with include=body.
    const late = signed({ ...idInfoCallback(erasedToo), Source: 'late' });
    const answer = await postCallback(t.app, late);
    expect(answer.statusCode).toBe(200);
    const events = await t.app.inject({
      method: 'GET',
      url: `/v1/jobs/${erasedToo.jobId}/events?include=body`,
      headers: bearer(PII_TOKEN),
    });
    const stored = (events.json().items as Array<Record<string, unknown>>).find(
      (item) => item.id === answer.json().eventId,
    );
    expect(stored).toMatchObject({ source: 'callback', trusted: true, bodyWithheld: true, body: null });
    expect(events.body).not.toContain(erasedToo.idNumber);
    const row = await t.db.pool.query(
      'SELECT body, body_bytes, content_hash FROM callback_events WHERE id = $1',
      [answer.json().eventId],
    );
    expect(row.rows[0]).toMatchObject({ body: null, body_bytes: expect.any(Number) });
    expect(row.rows[0].content_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('keeps no body of a job_status answer fetched for an erased job, and no ID record from it', async () => {
    const check = createStatusCheck({
      store: createStatusStore({ pool: t.db.pool, cipher: t.cipher, vault: t.storage.vault }),
      client: unreachableSmileId,
      log: silentLogger,
      pollModel: DEFAULT_POLL_MODEL,
      policy: DEFAULT_POLICY,
    });
    const answer = { ...jobStatusAt('approved', erasedToo, 10_000_000), timestamp: 'ts', signature: 'sig' };
    const raw = Buffer.from(JSON.stringify(answer));
    expect(
      await check.apply(
        erasedToo.jobId,
        { kind: 'status', body: answer, raw, timestamp: 'ts', signature: 'sig' },
        new Date(),
      ),
    ).toBeDefined();
    const snapshots = await t.db.pool.query(
      'SELECT count(*)::int AS stored, count(body)::int AS with_body FROM status_snapshots WHERE job_id = $1',
      [erasedToo.jobId],
    );
    expect(snapshots.rows[0]).toEqual({ stored: 1, with_body: 0 });
    expect((await read(erasedToo.jobId)).json()).toMatchObject({ confirmed: true, idInfo: null });
  });

  it('keeps no body of an untrusted callback that arrives for an erased, settled job', async () => {
    await t.db.pool.query('UPDATE jobs SET confirmed = true, version = version + 1 WHERE job_id = $1', [
      erased.jobId,
    ]);
    const stale = new Date(Date.now() - 86_400_000).toISOString();
    const answer = await postCallback(t.app, signed({ ...idInfoCallback(erased), Source: 'stale' }, stale));
    expect(answer.statusCode).toBe(200);
    const row = await t.db.pool.query(
      'SELECT trusted, body, body_withheld FROM callback_events WHERE id = $1',
      [answer.json().eventId],
    );
    expect(row.rows[0]).toEqual({ trusted: false, body: null, body_withheld: true });
  });

  it('answers zeros for a user with nothing left to erase, or no jobs at all', async () => {
    expect((await erase('user-never-seen')).json()).toEqual({
      userId: 'user-never-seen',
      jobs: 0,
      idInfo: 0,
      callbackBodies: 0,
      statusBodies: 0,
      submissions: 0,
      objects: 0,
    });
  });

  it("erases bodies stored with no job that name the user, and no one else's", async () => {
    // Once orphans (a job id that could not be read) were never matched by user id.
    const user = simulatedJob();
    const other = simulatedJob();
    const orphan = (job: typeof user) =>
      signed({ ...idInfoCallback(job), PartnerParams: { job_id: 'N/A', user_id: job.userId } });
    const mine = await postCallback(t.app, orphan(user));
    const theirs = await postCallback(t.app, orphan(other));
    const bodyOf = async (eventId: string) =>
      (await t.db.pool.query('SELECT job_id, body FROM callback_events WHERE id = $1', [eventId])).rows[0];
    expect(await bodyOf(mine.json().eventId)).toMatchObject({ job_id: null, body: expect.any(Buffer) });

    expect((await erase(user.userId)).json()).toMatchObject({ jobs: 0, callbackBodies: 1 });
    expect((await bodyOf(mine.json().eventId)).body).toBeNull();
    expect((await bodyOf(theirs.json().eventId)).body).not.toBeNull();
  });
});

describe('an erasure racing concurrent callbacks for the same user', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t?.close());

  it('leaves no body or ID record of the user that holds identity data, whichever commits first', async () => {
    // Once 16 of 50 bodies committed after the erasure kept their identity data.
    const job = simulatedJob();
    expect((await postCallback(t.app, signed(resultCallback(job, 'provisional')))).statusCode).toBe(200);
    expect((await postCallback(t.app, signed(idInfoCallback(job)))).statusCode).toBe(200);

    const callbacks = Array.from({ length: 50 }, (_, index) =>
      signed(
        index % 2 === 0 ? idInfoCallback(job) : resultCallback(job, 'approved'),
        new Date(Date.now() - (index + 1) * 1000).toISOString(),
      ),
    );
    let erasure: Promise<{ statusCode: number }> | undefined;
    let answered = 0;
    const answers = await Promise.all(
      callbacks.map(async (body) => {
        const { statusCode } = await postCallback(t.app, body);
        // The erasure starts once ten callbacks are stored, while the other forty are still on their way.
        answered += 1;
        if (answered === 10) {
          erasure = t.app.inject({
            method: 'DELETE',
            url: `/v1/users/${job.userId}/identity-data`,
            headers: bearer(PII_TOKEN),
          });
        }
        return statusCode;
      }),
    );
    expect((await erasure!).statusCode).toBe(200);

    const events = await t.db.pool.query(
      'SELECT count(*)::int AS stored, count(body)::int AS with_body FROM callback_events WHERE job_id = $1',
      [job.jobId],
    );
    expect(events.rows[0].with_body).toBe(0);
    expect(answers).toEqual(answers.map(() => 200));
    expect(events.rows[0].stored).toBe(52);
    const row = await t.db.pool.query('SELECT id_info, purged_at FROM jobs WHERE job_id = $1', [job.jobId]);
    expect(row.rows[0]).toMatchObject({ id_info: null, purged_at: expect.any(Date) });
  });
});

describe('bodies with no job, stored before user digests or under a key since removed', () => {
  const newKey = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;
  const k1 = newKey('k1');
  const k2 = newKey('k2');
  let scratch: ScratchDatabase;
  beforeAll(async () => {
    scratch = await createScratchDatabase();
  });
  afterAll(() => scratch?.drop());
  const appWithKeys = (keys: string) =>
    createTestApp({ env: { DATABASE_URL: scratch.url, DATA_ENCRYPTION_KEYS: keys } });
  const orphanOf = (job: ReturnType<typeof simulatedJob>) =>
    signed({ ...idInfoCallback(job), PartnerParams: { job_id: 'Not Available', user_id: job.userId } });

  it('are found by user once keys:reencrypt has digested their users under the newest key', async () => {
    const digestedUnderK1 = simulatedJob();
    const neverDigested = simulatedJob();
    const before = await appWithKeys(k1);
    let legacyId: string;
    try {
      expect((await postCallback(before.app, orphanOf(digestedUnderK1))).statusCode).toBe(200);
      legacyId = (await postCallback(before.app, orphanOf(neverDigested))).json().eventId;
      // As a body stored before user digests were kept.
      await inTransaction(before.db.pool, async (client) => {
        await client.query("SET LOCAL smileid.maintenance = 'on'");
        await client.query(
          'UPDATE callback_events SET user_digest = NULL, user_digest_key_id = NULL WHERE id = $1',
          [legacyId],
        );
      });
    } finally {
      await before.close();
    }

    const rotated = await appWithKeys(`${k2},${k1}`);
    try {
      expect(await reencryptAll(rotated.db.pool, rotated.cipher, rotated.storage.vault)).toBeGreaterThan(0);
      expect(await redigestUsers(rotated.db.pool, rotated.cipher, userIdNamedBy)).toBe(2);
      expect(await redigestUsers(rotated.db.pool, rotated.cipher, userIdNamedBy)).toBe(0);
    } finally {
      await rotated.close();
    }

    const after = await appWithKeys(k2);
    try {
      for (const job of [digestedUnderK1, neverDigested]) {
        const answer = await after.app.inject({
          method: 'DELETE',
          url: `/v1/users/${job.userId}/identity-data`,
          headers: bearer(PII_TOKEN),
        });
        expect(answer.json()).toMatchObject({ jobs: 0, callbackBodies: 1 });
      }
      const { rows } = await after.db.pool.query('SELECT count(body)::int AS n FROM callback_events');
      expect(rows[0].n).toBe(0);
    } finally {
      await after.close();
    }
  });
});
