import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { draftDeliveries } from '../../src/notify/messages.js';
import { createChangeFeed, FEED_START, type FeedPosition } from '../../src/store/feed/change-feed.js';
import { createGaugeQueries } from '../../src/store/jobs/job-gauges.js';
import { createWebhookStore } from '../../src/store/webhooks/webhook-store.js';
import { TEST_CURSORS } from '../helpers/app.js';
import { createScratchDatabase, type ScratchDatabase } from '../helpers/database.js';
import { writeOutOfOrder } from '../helpers/out-of-order-writers.js';

/**
 * What holds the change feed back, and what may not: a transaction of another database on the same
 * server never does; the feed never lists a change behind a position it already handed out, however
 * writers interleave. On a database of its own, so that no other test's transaction runs in it.
 */
describe('the change feed’s horizon', () => {
  let scratch: ScratchDatabase;
  let pool: pg.Pool;
  beforeAll(async () => {
    scratch = await createScratchDatabase();
    pool = new pg.Pool({ connectionString: scratch.url, max: 12 });
    // The drop in afterAll forces out connections the pool may still be closing: their goodbye is no failure.
    pool.on('error', (error) => {
      if ((error as { code?: string }).code !== '57P01') throw error;
    });
  });
  afterAll(async () => {
    await pool?.end();
    await scratch?.drop();
  });

  const insertJob = (client: pg.Pool | pg.Client, jobId: string) =>
    client.query(
      `INSERT INTO jobs (job_id, user_id, created_at, updated_at, version) VALUES ($1, 'u', now(), now(), 1)`,
      [jobId],
    );

  /** A session of another database of the server, holding a transaction open with its id assigned. */
  async function holdTransactionInPostgresDatabase() {
    const url = new URL(inject('databaseUrl'));
    url.pathname = '/postgres';
    const other = new pg.Client({ connectionString: url.toString() });
    await other.connect();
    await other.query('BEGIN');
    await other.query('SELECT pg_current_xact_id()');
    return {
      release: async () => {
        await other.query('COMMIT');
        await other.end();
      },
    };
  }

  /** Reads until `jobId`'s change is listed, for up to `withinMs`; answers whether it was. */
  async function listedWithin(read: () => Promise<string[]>, jobId: string, withinMs: number) {
    const deadline = Date.now() + withinMs;
    for (;;) {
      if ((await read()).includes(jobId)) return true;
      if (Date.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('lists a change while a transaction stays open in another database of the server', async () => {
    const feed = createChangeFeed({ pool });
    const held = await holdTransactionInPostgresDatabase();
    try {
      const jobId = `job-${randomUUID()}`;
      await insertJob(pool, jobId);
      // And a later transaction of this database, ended, as any busy service has.
      await insertJob(pool, `job-${randomUUID()}`);
      const read = async () => (await feed.read(FEED_START, 10_000)).map((change) => change.jobId);
      expect(await listedWithin(read, jobId, 5000)).toBe(true);
    } finally {
      await held.release();
    }
  });

  it('fans a change out to webhooks while a transaction stays open in another database of the server', async () => {
    const store = createWebhookStore({ pool });
    const [endpoint] = await store.ensureEndpoints([`http://127.0.0.1:9/${randomUUID()}`], new Date());
    const held = await holdTransactionInPostgresDatabase();
    try {
      const jobId = `job-${randomUUID()}`;
      await insertJob(pool, jobId);
      await insertJob(pool, `job-${randomUUID()}`);
      const fannedOut = async () => {
        await store.fanOut(endpoint!.id, 10_000, new Date(), (changes) =>
          draftDeliveries(changes, TEST_CURSORS),
        );
        const { rows } = await pool.query('SELECT job_id FROM webhook_deliveries WHERE endpoint_id = $1', [
          endpoint!.id,
        ]);
        return rows.map((row) => row.job_id as string);
      };
      expect(await listedWithin(fannedOut, jobId, 5000)).toBe(true);
    } finally {
      await held.release();
    }
  });

  it('holds a change back while an older transaction of this database is open, and lists it once that ends', async () => {
    const feed = createChangeFeed({ pool });
    const { rows: before } = await pool.query<FeedPosition>(
      'SELECT xid::text AS xid, id::text AS id FROM job_changes ORDER BY xid DESC, id DESC LIMIT 1',
    );
    const start = before[0] ?? FEED_START;
    const older = new pg.Client({ connectionString: scratch.url });
    await older.connect();
    try {
      await older.query('BEGIN');
      await older.query('SELECT pg_current_xact_id()');
      const jobId = `job-${randomUUID()}`;
      await insertJob(pool, jobId);
      const read = async () => (await feed.read(start, 10_000)).map((change) => change.jobId);
      expect(await listedWithin(read, jobId, 500)).toBe(false);
      await older.query('COMMIT');
      expect(await listedWithin(read, jobId, 5000)).toBe(true);
    } finally {
      await older.end();
    }
  });

  it('reports how long a committed change has been held back by an older transaction of this database, and 0 for another database’s', async () => {
    const gauges = createGaugeQueries({ pool });
    const elsewhere = await holdTransactionInPostgresDatabase();
    const older = new pg.Client({ connectionString: scratch.url });
    await older.connect();
    try {
      await insertJob(pool, `job-${randomUUID()}`);
      expect(await gauges.changeFeedHeldBack()).toBe(0);
      await older.query('BEGIN');
      await older.query('SELECT pg_current_xact_id()');
      await insertJob(pool, `job-${randomUUID()}`);
      await new Promise((resolve) => setTimeout(resolve, 1200));
      expect(await gauges.changeFeedHeldBack()).toBeGreaterThanOrEqual(1);
      await older.query('COMMIT');
      expect(await gauges.changeFeedHeldBack()).toBe(0);
    } finally {
      await older.end();
      await elsewhere.release();
    }
  });

  it('hands every change out exactly once and in feed order to a reader, while writers commit out of order', async () => {
    const feed = createChangeFeed({ pool });
    const run = randomUUID().slice(0, 8);
    const { rows: before } = await pool.query<FeedPosition>(
      'SELECT xid::text AS xid, id::text AS id FROM job_changes ORDER BY xid DESC, id DESC LIMIT 1',
    );
    // Readers page through the feed as consumers do, each from the last position it was handed.
    let writing = true;
    const reader = async () => {
      const seen: { jobId: string; toState: string; position: FeedPosition }[] = [];
      let after = before[0] ?? FEED_START;
      for (let idle = 0; writing || idle < 3; ) {
        const page = await feed.read(after, 7);
        seen.push(...page.map(({ jobId, toState, position }) => ({ jobId, toState, position })));
        after = page.at(-1)?.position ?? after;
        idle = writing || page.length > 0 ? 0 : idle + 1;
      }
      return seen;
    };
    const readers = [reader(), reader(), reader()];
    // Some transactions roll back.
    await writeOutOfOrder({
      url: scratch.url,
      writers: 6,
      transactions: 40,
      maxPauseMs: 15,
      write: async (client, writer, index) => {
        const jobId = `race-${run}-${writer}-${index}`;
        await insertJob(client, jobId);
        if (index % 3 === 0)
          await client.query("UPDATE jobs SET state = 'provisional' WHERE job_id = $1", [jobId]);
        return index % 7 !== 3;
      },
    });
    writing = false;
    // Whatever the writers committed, in feed order.
    const { rows: committed } = await pool.query(
      `SELECT job_id AS "jobId", to_state::text AS "toState" FROM job_changes
        WHERE job_id LIKE $1 ORDER BY xid, id`,
      [`race-${run}-%`],
    );
    expect(committed.length).toBeGreaterThan(100);
    for (const seen of await Promise.all(readers)) {
      expect(
        seen.filter((change) => change.jobId.startsWith(`race-${run}-`)).map(({ position, ...rest }) => rest),
      ).toEqual(committed);
    }
  });
});
