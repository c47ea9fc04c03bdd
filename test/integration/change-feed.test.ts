import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresOutages } from '../../src/store/connections.js';
import { createChangeSignal } from '../../src/store/feed/change-feed.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { createScratchDatabase, type ScratchDatabase } from '../helpers/database.js';

interface ChangePage {
  items: {
    cursor: string;
    jobId: string;
    fromState: string | null;
    toState: string;
    toFinal: boolean;
    confirmed: boolean;
  }[];
  nextCursor: string;
}

/** GET /v1/changes on a database of its own, so that no other test's transaction holds the feed back. */
describe('the change feed', () => {
  let scratch: ScratchDatabase;
  let app: TestApp;
  let signal: ReturnType<typeof createChangeSignal>;

  beforeAll(async () => {
    scratch = await createScratchDatabase();
    signal = createChangeSignal({
      url: scratch.url,
      outages: postgresOutages(scratch.url, pino({ level: 'warn' })),
    });
    await signal.start();
    app = await createTestApp({ env: { DATABASE_URL: scratch.url }, changeSignal: signal });
  });
  afterAll(async () => {
    await signal?.close();
    await app?.close();
    await scratch?.drop();
  });

  async function changes(query = ''): Promise<ChangePage> {
    const response = await app.app.inject({
      method: 'GET',
      url: `/v1/changes${query}`,
      headers: { authorization: 'Bearer api-token-for-tests' },
    });
    expect(response.statusCode).toBe(200);
    return response.json();
  }

  const register = (jobId: string) =>
    app.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: { authorization: 'Bearer api-token-for-tests' },
      payload: { jobId, userId: `user-${jobId}` },
    });

  /**
   * Reads the feed until it lists `count` changes after `after`: a change is listed once every older
   * transaction of this database has ended.
   */
  async function caughtUp(after: string | undefined, done: (seen: ChangePage['items']) => boolean) {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const drained = await drain(after, 1000);
      if (done(drained.seen) || Date.now() > deadline) return drained;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Reads the whole feed from `after`, page by page, as a consumer would. */
  async function drain(after: string | undefined, limit = 2) {
    const seen: ChangePage['items'] = [];
    let cursor = after;
    for (;;) {
      const page = await changes(`?limit=${limit}${cursor ? `&after=${cursor}` : ''}`);
      seen.push(...page.items);
      cursor = page.nextCursor;
      if (page.items.length < limit) return { seen, cursor };
    }
  }

  it('lists every change from the oldest, in order, and resumes from any cursor without a miss or a repeat', async () => {
    const before = (await caughtUp(undefined, () => true)).seen.length;
    const jobIds = Array.from({ length: 5 }, () => `job-${randomUUID()}`);
    for (const jobId of jobIds) expect((await register(jobId)).statusCode).toBe(201);
    await app.db.pool.query(
      "UPDATE jobs SET state = 'approved', is_final = true, confirmed = true WHERE job_id = $1",
      [jobIds[0]],
    );

    await caughtUp(undefined, (seen) => seen.length >= before + 6);
    const seen = (await drain(undefined)).seen.slice(before);
    expect(seen.map((item) => item.jobId)).toEqual([...jobIds, jobIds[0]]);
    expect(seen.at(-1)).toMatchObject({
      fromState: 'pending',
      toState: 'approved',
      toFinal: true,
      confirmed: true,
    });
    // From every cursor handed out, the rest of the feed exactly.
    for (const [index, item] of seen.entries()) {
      expect((await drain(item.cursor, 3)).seen.slice(0, seen.length - index - 1)).toEqual(
        seen.slice(index + 1),
      );
    }
  });

  it('never hands out a cursor past a change whose transaction commits after a later one', async () => {
    const [early, late] = [`job-${randomUUID()}`, `job-${randomUUID()}`];
    const { cursor: start } = await drain(undefined, 1000);
    const first = new pg.Client({ connectionString: scratch.url });
    const second = new pg.Client({ connectionString: scratch.url });
    await Promise.all([first.connect(), second.connect()]);
    try {
      const insert = `INSERT INTO jobs (job_id, user_id, created_at, updated_at, version) VALUES ($1, 'u', now(), now(), 1)`;
      // The first transaction takes the lower change id and transaction id, and commits last.
      await first.query('BEGIN');
      await first.query(insert, [early]);
      await second.query('BEGIN');
      await second.query(insert, [late]);
      await second.query('COMMIT');

      const whileOpen = await drain(start, 1000);
      const ours = (items: ChangePage['items']) =>
        items.map((item) => item.jobId).filter((jobId) => jobId === early || jobId === late);
      expect(ours(whileOpen.seen)).toEqual([]);
      await first.query('COMMIT');
      const afterCommit = await caughtUp(whileOpen.cursor, (seen) => ours(seen).length === 2);
      expect(ours(afterCommit.seen)).toEqual([early, late]);
    } finally {
      await Promise.all([first.end(), second.end()]);
    }
  });

  it('holds a request with wait until a change commits, then answers it', async () => {
    const { cursor } = await caughtUp(undefined, () => true);
    const jobId = `job-${randomUUID()}`;
    const started = Date.now();
    const waiting = changes(`?after=${cursor}&wait=20`);
    setTimeout(() => void register(jobId), 300);
    const page = await waiting;
    expect(page.items.map((item) => item.jobId)).toEqual([jobId]);
    // Woken by the commit, not by the end of the wait (a generous bound against a stall).
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('wakes a waiter for a change signalled between its look at the feed and its wait', async () => {
    const changed = signal.watch();
    // The reader looked (nothing new); a change commits and its signal arrives before the reader waits.
    expect((await register(`job-${randomUUID()}`)).statusCode).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = Date.now();
    await changed(AbortSignal.timeout(5000));
    // A missed signal would hold it to the deadline.
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('answers an empty page with the same cursor when the wait ends with nothing new', async () => {
    const { cursor } = await drain(undefined, 1000);
    const started = Date.now();
    const page = await changes(`?after=${cursor}&wait=1`);
    expect(page.items).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect((await drain(page.nextCursor)).seen).toEqual([]);
  });

  it('refuses a cursor it did not issue, and a wait over 30 seconds', async () => {
    // Well-formed, but past Postgres' bigint: refused before any SQL would fail to cast it.
    const overflowing = Buffer.from(JSON.stringify({ xid: '9999999999999999999', id: '1' })).toString(
      'base64url',
    );
    for (const query of ['?after=not-a-cursor', `?after=${overflowing}`, '?wait=31', '?limit=0']) {
      const response = await app.app.inject({
        method: 'GET',
        url: `/v1/changes${query}`,
        headers: { authorization: 'Bearer api-token-for-tests' },
      });
      expect(response.statusCode, query).toBe(400);
    }
  });

  it('refuses a well-formed but forged cursor with 400 INVALID_CURSOR, not an empty page that echoes it', async () => {
    // A position far past the feed's end: once answered 200 with no items and itself as nextCursor, so
    // that its consumer waited forever for changes the feed would never list after it.
    const forged = Buffer.from(JSON.stringify({ xid: '999999999', id: '0' })).toString('base64url');
    const response = await app.app.inject({
      method: 'GET',
      url: `/v1/changes?after=${forged}&wait=1`,
      headers: { authorization: 'Bearer api-token-for-tests' },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('INVALID_CURSOR');
    expect(response.body).not.toContain(forged);
  });

  it('records no identity data in a change', async () => {
    const jobId = `job-${randomUUID()}`;
    await register(jobId);
    await app.db.pool.query('UPDATE jobs SET id_info = $2, state = $3 WHERE job_id = $1', [
      jobId,
      Buffer.from('sealed-id-record'),
      'provisional',
    ]);
    const { rows } = await app.db.pool.query(
      'SELECT outcome::text AS outcome FROM job_changes WHERE job_id = $1',
      [jobId],
    );
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row.outcome).not.toMatch(/idInfo|id_info|sealed-id-record/);
    }
  });
});
