import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics, type Metrics } from '../../src/observability/metrics.js';
import { createChangeSignal } from '../../src/store/feed/change-feed.js';
import { API_TOKEN, createTestApp, type TestApp } from '../helpers/app.js';
import { createScratchDatabase, type ScratchDatabase } from '../helpers/database.js';
import { writeOutOfOrder } from '../helpers/out-of-order-writers.js';

interface ChangePage {
  items: { cursor: string; jobId: string }[];
  nextCursor: string;
}

/**
 * Many consumers long-polling GET /v1/changes: what their waits cost the database, and where they stop.
 * Reads are counted by the app's own metric. On a database of its own, so that only these tests'
 * transactions hold the feed back.
 */
describe('long polls of the change feed', () => {
  let scratch: ScratchDatabase;
  let signal: ReturnType<typeof createChangeSignal>;
  let metrics: Metrics;
  let app: TestApp;

  beforeAll(async () => {
    scratch = await createScratchDatabase();
    signal = createChangeSignal({ url: scratch.url });
    await signal.start();
    metrics = createMetrics({ defaultMetrics: false });
    app = await createTestApp({ env: { DATABASE_URL: scratch.url }, changeSignal: signal, metrics });
  });
  afterAll(async () => {
    await signal?.close();
    await app?.close();
    await scratch?.drop();
  });

  const get = (on: TestApp, query: string) =>
    on.app.inject({
      method: 'GET',
      url: `/v1/changes${query}`,
      headers: { authorization: `Bearer ${API_TOKEN}` },
    });

  const register = async (jobId: string) => {
    const response = await app.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: { authorization: `Bearer ${API_TOKEN}` },
      payload: { jobId, userId: `user-${jobId}` },
    });
    expect(response.statusCode).toBe(201);
  };

  /** The cursor at the feed's end, where consumers that keep up wait. */
  async function feedEnd(): Promise<string> {
    let cursor = '';
    for (;;) {
      const page: ChangePage = (await get(app, `?limit=1000${cursor ? `&after=${cursor}` : ''}`)).json();
      cursor = page.nextCursor;
      if (page.items.length < 1000) return cursor;
    }
  }

  const reads = async () => (await metrics.changeFeedReads.get()).values[0]?.value ?? 0;

  /** Until `count` requests of `of` wait (its waiting gauge), for a few seconds at most. */
  async function waiting(count: number, of: Metrics = metrics) {
    const deadline = Date.now() + 10_000;
    while (((await of.changeFeedWaiting.get()).values[0]?.value ?? 0) !== count) {
      if (Date.now() > deadline) throw new Error(`${count} requests never waited together`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('wakes 40 requests waiting at the same position with one read of the feed per change, their polls after it included', async () => {
    let after = await feedEnd();
    for (let round = 0; round < 3; round += 1) {
      const before = await reads();
      // After the first round, the consumers come back to where the last answer ended, as consumers
      // that keep up do: they join one wait there without a read each.
      const polls = Array.from({ length: 40 }, () => get(app, `?after=${after}&wait=20`));
      await waiting(40);
      const jobId = `job-${randomUUID()}`;
      await register(jobId);
      const pages = (await Promise.all(polls)).map((response) => {
        expect(response.statusCode).toBe(200);
        return response.json() as ChangePage;
      });
      for (const page of pages) expect(page.items.map((item) => item.jobId)).toEqual([jobId]);
      // The first round's requests looked at the feed before waiting; the others did not need to.
      expect((await reads()) - before).toBeLessThanOrEqual(round === 0 ? 3 : 1);
      after = pages[0]!.nextCursor;
    }
  });

  it('looks again a few times a second at most while an older transaction hides a change, however many wait', async () => {
    const after = await feedEnd();
    const older = new pg.Client({ connectionString: scratch.url });
    await older.connect();
    try {
      await older.query('BEGIN');
      await older.query('SELECT pg_current_xact_id()');
      const polls = Array.from({ length: 40 }, () => get(app, `?after=${after}&wait=20`));
      await waiting(40);
      const before = await reads();
      const jobId = `job-${randomUUID()}`;
      // Signalled, yet hidden behind the older transaction for two seconds.
      await register(jobId);
      await new Promise((resolve) => setTimeout(resolve, 2000));
      // Its end sends no signal: it changed no job. The waiters' next look finds the change.
      await older.query('COMMIT');
      for (const response of await Promise.all(polls)) {
        expect((response.json() as ChangePage).items.map((item) => item.jobId)).toEqual([jobId]);
      }
      // One loop for the 40 looks again after 50, 100, 200, 400, 800 ms, then every second.
      expect((await reads()) - before).toBeLessThanOrEqual(12);
    } finally {
      await older.end();
    }
  });

  it('finds, within seconds rather than at the end of the wait, a change hidden when signalled whose blocker ends without a signal', async () => {
    const after = await feedEnd();
    const older = new pg.Client({ connectionString: scratch.url });
    await older.connect();
    try {
      await older.query('BEGIN');
      await older.query('SELECT pg_current_xact_id()');
      const jobId = `job-${randomUUID()}`;
      // Committed and signalled before the request looks (the signal has arrived half a second later):
      // hidden then, so the request waits, with nothing left to wake it.
      await register(jobId);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const startedAt = Date.now();
      const poll = get(app, `?after=${after}&wait=25`);
      await waiting(1);
      // Ends without changing a job: no signal.
      await older.query('COMMIT');
      const page: ChangePage = (await poll).json();
      expect(page.items.map((item) => item.jobId)).toEqual([jobId]);
      expect(Date.now() - startedAt).toBeLessThan(15_000);
    } finally {
      await older.end();
    }
  });

  it('hands each of 10 consumers following with wait every change once and in order, while writers commit out of order', async () => {
    const run = randomUUID().slice(0, 8);
    const start = await feedEnd();
    let writing = true;
    const consumer = async () => {
      const seen: string[] = [];
      let after = start;
      for (;;) {
        const done = !writing;
        const response = await get(app, `?after=${after}&wait=1&limit=7`);
        expect(response.statusCode).toBe(200);
        const page: ChangePage = response.json();
        seen.push(...page.items.map((item) => item.jobId));
        after = page.nextCursor;
        if (done && page.items.length === 0) return seen;
      }
    };
    const consumers = Array.from({ length: 10 }, consumer);
    await writeOutOfOrder({
      url: scratch.url,
      writers: 4,
      transactions: 15,
      maxPauseMs: 20,
      write: async (client, writer, index) => {
        await client.query(
          `INSERT INTO jobs (job_id, user_id, created_at, updated_at, version) VALUES ($1, 'u', now(), now(), 1)`,
          [`poll-${run}-${writer}-${index}`],
        );
        return true;
      },
    });
    writing = false;
    const { rows } = await app.db.pool.query(
      'SELECT job_id AS "jobId" FROM job_changes WHERE job_id LIKE $1 ORDER BY xid, id',
      [`poll-${run}-%`],
    );
    expect(rows).toHaveLength(60);
    for (const seen of await Promise.all(consumers)) {
      expect(seen.filter((jobId) => jobId.startsWith(`poll-${run}-`))).toEqual(rows.map((row) => row.jobId));
    }
  });

  it('answers 429 CHANGE_FEED_BUSY with Retry-After past CHANGE_FEED_MAX_WAITERS, and waits again once places free up', async () => {
    const capped = createMetrics({ defaultMetrics: false });
    const small = await createTestApp({
      env: { DATABASE_URL: scratch.url, CHANGE_FEED_MAX_WAITERS: '2' },
      changeSignal: signal,
      metrics: capped,
    });
    try {
      const after = await feedEnd();
      const held = [get(small, `?after=${after}&wait=20`), get(small, `?after=${after}&wait=20`)];
      await waiting(2, capped);

      const refused = await get(small, `?after=${after}&wait=20`);
      expect(refused.statusCode).toBe(429);
      expect(refused.json().error.code).toBe('CHANGE_FEED_BUSY');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      // A look without waiting is no wait: still answered.
      expect((await get(small, `?after=${after}`)).statusCode).toBe(200);

      await register(`job-${randomUUID()}`);
      for (const response of await Promise.all(held)) expect(response.statusCode).toBe(200);
      await waiting(0, capped);
      const next = await feedEnd();
      expect((await get(small, `?after=${next}&wait=1`)).statusCode).toBe(200);
    } finally {
      await small.close();
    }
  });
});
