import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENDPOINT_RETIRED_AFTER_MS } from '../../src/domain/webhook-endpoints.js';
import { draftDeliveries } from '../../src/notify/messages.js';
import { createChangeFeed } from '../../src/store/feed/change-feed.js';
import { createGaugeQueries } from '../../src/store/jobs/job-gauges.js';
import type { EndpointVerdict } from '../../src/store/webhooks/attempts.js';
import { createWebhookStore } from '../../src/store/webhooks/webhook-store.js';
import { createTestApp, TEST_CURSORS, type TestApp } from '../helpers/app.js';
import { createScratchDatabase, type ScratchDatabase } from '../helpers/database.js';
import { endpointRow, jobDeliveries } from '../helpers/webhook-deliveries.js';

/**
 * The deliveries' bookkeeping in Postgres: fan-out, the job's next delivery, repeats, retired endpoints
 * and retention. On a database of its own: endpoints and retention span the whole database.
 */
describe('the webhook store', () => {
  let scratch: ScratchDatabase;
  let app: TestApp;
  beforeAll(async () => {
    scratch = await createScratchDatabase();
    app = await createTestApp({ env: { DATABASE_URL: scratch.url } });
  });
  afterAll(async () => {
    await app?.close();
    await scratch?.drop();
  });

  /** An endpoint of its own, starting just before one job's two changes. */
  async function setUp() {
    const store = createWebhookStore({ pool: app.db.pool });
    const [endpoint] = await store.ensureEndpoints([`http://127.0.0.1:9/${randomUUID()}`], new Date());
    const jobId = `job-${randomUUID()}`;
    // The endpoint starts at the feed's end: everything before now is behind its cursor.
    await app.db.pool.query(
      'UPDATE webhook_endpoints SET cursor_xid = 0, cursor_id = (SELECT COALESCE(max(id), 0) FROM job_changes) WHERE id = $1',
      [endpoint!.id],
    );
    await app.db.pool.query(
      `INSERT INTO jobs (job_id, user_id, created_at, updated_at, version) VALUES ($1, 'u', now(), now(), 1)`,
      [jobId],
    );
    await app.db.pool.query("UPDATE jobs SET state = 'provisional' WHERE job_id = $1", [jobId]);
    const ours = (changes: Parameters<typeof draftDeliveries>[0]) =>
      draftDeliveries(
        changes.filter((change) => change.jobId === jobId),
        TEST_CURSORS,
      );
    const fanOut = async () => {
      // Other tests' changes become visible when their transactions end: take everything there is.
      for (let round = 0; round < 50; round += 1) {
        await store.fanOut(endpoint!.id, 10_000, new Date(), ours);
        const { rows } = await app.db.pool.query(
          'SELECT id::text FROM webhook_deliveries WHERE endpoint_id = $1 AND job_id = $2 ORDER BY id',
          [endpoint!.id, jobId],
        );
        if (rows.length >= 2) return rows.map((row) => row.id as string);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error('the job’s changes were not fanned out');
    };
    return { store, endpoint: endpoint!, jobId, fanOut };
  }

  it('hands out a job’s next delivery only once the one before it is delivered, and marks each delivered once', async () => {
    const { store, endpoint, fanOut } = await setUp();
    const [first, second] = await fanOut();
    const claim = () => store.claimDue(new Date(), new Date(Date.now() + 1000), 10, 16, endpoint.id);
    expect(await claim()).toEqual([first]);
    expect(await claim()).toEqual([]);
    expect(await store.markDelivered(first!, new Date(), 204)).toBe(true);
    expect(await claim()).toEqual([second]);
    expect(await store.markDelivered(second!, new Date(), 204)).toBe(true);
    expect(await store.markDelivered(second!, new Date(), 204)).toBe(false);
  });

  it('makes a change’s messages once, even if it is fanned out again', async () => {
    const { store, endpoint, jobId, fanOut } = await setUp();
    const before = await fanOut();
    await app.db.pool.query('UPDATE webhook_endpoints SET cursor_xid = 0 WHERE id = $1', [endpoint.id]);
    await store.fanOut(endpoint.id, 10_000, new Date(), (changes) =>
      draftDeliveries(
        changes.filter((change) => change.jobId === jobId),
        TEST_CURSORS,
      ),
    );
    const { rows } = await app.db.pool.query(
      'SELECT count(*)::int AS count FROM webhook_deliveries WHERE endpoint_id = $1 AND job_id = $2',
      [endpoint.id, jobId],
    );
    expect(rows[0].count).toBe(before.length);
  });

  /** The ids `claimDue` hands out at `at`, leasing them for a second, 16 of an endpoint at most. */
  const claimedAt = (store: ReturnType<typeof createWebhookStore>, at: Date) =>
    store.claimDue(at, new Date(at.getTime() + 1000), 10_000, 16);

  /** Past the time after which an endpoint no worker has listed (since `hoursAhead`) is retired. */
  const later = (hoursAhead = 0) =>
    new Date(Date.now() + hoursAhead * 3_600_000 + ENDPOINT_RETIRED_AFTER_MS + 60_000);
  const listed = async (store: ReturnType<typeof createWebhookStore>, id: number, now: Date) =>
    (await store.listEndpoints(now)).find((row) => row.id === id);

  it('retires an endpoint no worker has listed for a while: nothing of it is handed out or counted, until one lists it again', async () => {
    const { store, endpoint, fanOut } = await setUp();
    const [first, second] = await fanOut();
    const gauges = createGaugeQueries({ pool: app.db.pool });
    const now = await gauges.notificationCounts(new Date());
    expect(await listed(store, endpoint.id, new Date())).toMatchObject({ retired: false, pending: 2 });

    const at = later();
    expect(await listed(store, endpoint.id, at)).toMatchObject({ retired: true, pending: 2 });
    const then = await gauges.notificationCounts(at);
    // In a database of its own, every endpoint of this file is retired by then.
    expect(now.pending).toBeGreaterThanOrEqual(2);
    expect(then).toMatchObject({ pending: 0, oldestPendingSeconds: 0, disabledEndpoints: 0 });
    expect(then.retiredEndpoints).toBe((await store.listEndpoints(at)).length);
    // Not even once its retries are due: nobody is meant to send them.
    expect(await claimedAt(store, new Date(at.getTime() + 86_400_000))).not.toContain(first);
    expect(await store.enableEndpoint(endpoint.id, at)).toBe('retired');

    // Listed again: it resumes where it stopped, its first delivery due.
    await store.ensureEndpoints([endpoint.url], at);
    expect(await listed(store, endpoint.id, at)).toMatchObject({ retired: false });
    const claimed = await claimedAt(store, at);
    expect(claimed).toContain(first);
    expect(claimed).not.toContain(second);
  });

  it('keeps an endpoint that any worker still lists, whatever another worker lists, as in a rolling deploy', async () => {
    const { store, endpoint } = await setUp();
    const other = `http://127.0.0.1:9/${randomUUID()}`;
    for (let sweep = 0; sweep < 3; sweep += 1) {
      await store.ensureEndpoints([endpoint.url], new Date());
      await store.ensureEndpoints([other], new Date());
    }
    const endpoints = await store.listEndpoints(new Date());
    expect(
      endpoints.filter((row) => [endpoint.url, other].includes(row.url)).map((row) => row.retired),
    ).toEqual([false, false]);
  });

  it('removes only a retired endpoint, with what waited for it', async () => {
    const { store, endpoint, fanOut } = await setUp();
    await fanOut();
    expect(await store.removeRetiredEndpoint(endpoint.id, new Date())).toEqual({ kind: 'configured' });
    expect(await store.removeRetiredEndpoint(endpoint.id, later())).toEqual({
      kind: 'removed',
      pending: 2,
      dead: 0,
    });
    const { rows } = await app.db.pool.query(
      'SELECT count(*)::int AS count FROM webhook_deliveries WHERE endpoint_id = $1',
      [endpoint.id],
    );
    expect(rows[0].count).toBe(0);
    expect(await store.removeRetiredEndpoint(endpoint.id, later())).toEqual({ kind: 'not_found' });
    expect(await store.enableEndpoint(endpoint.id, new Date())).toBe('not_found');
  });

  describe('each endpoint on its own terms', () => {
    /** `jobs` jobs with a delivery each to one new endpoint; the first deliveries' ids. */
    async function endpointWithJobs(jobs: number) {
      const url = `http://127.0.0.1:9/${randomUUID()}`;
      const made = [];
      for (let index = 0; index < jobs; index += 1) made.push(await jobDeliveries(app.db.pool, url));
      return { store: made[0]!.store, endpointId: made[0]!.endpoint.id, ids: made.map((job) => job.ids[0]!) };
    }
    const lease = (at: Date) => new Date(at.getTime() + 60_000);
    const answering = { failing: false } as const;
    const failure = (at: Date, endpoint: EndpointVerdict) => ({
      at,
      error: 'HTTP 500',
      status: 500,
      nextAttemptAt: at,
      dead: false,
      endpoint,
    });

    it('hands out at most `perEndpoint` deliveries of an endpoint at once, and another as each attempt is recorded, whatever another endpoint has', async () => {
      const busy = await endpointWithJobs(5);
      const other = await endpointWithJobs(2);
      const at = new Date();
      const claim = async (when: Date) => {
        const ids = await busy.store.claimDue(when, lease(when), 10_000, 2);
        return {
          busy: ids.filter((id) => busy.ids.includes(id)),
          other: ids.filter((id) => other.ids.includes(id)),
        };
      };
      const first = await claim(at);
      expect(first.busy).toHaveLength(2);
      expect(first.other.sort()).toEqual([...other.ids].sort());
      expect(await claim(at)).toEqual({ busy: [], other: [] });

      await busy.store.markFailed(first.busy[0]!, failure(at, answering));
      expect((await claim(at)).busy).toHaveLength(1);
      // Their leases lapsed (their worker died): the room they held is free again.
      expect((await claim(new Date(at.getTime() + 120_000))).busy).toHaveLength(2);
    });

    it('hands out nothing of an endpoint backing off, then one delivery at a time until one is answered', async () => {
      const { store, endpointId, ids } = await endpointWithJobs(3);
      const claim = async (when: Date) =>
        (await store.claimDue(when, lease(when), 10_000, 16)).filter((id) => ids.includes(id));
      const at = new Date();
      expect((await claim(at)).sort()).toEqual([...ids].sort());
      const backoffUntil = new Date(at.getTime() + 5000);
      // Three timeouts of attempts made together count as one failure.
      for (const id of ids)
        await store.markFailed(id, failure(at, { failing: true, failures: 1, backoffUntil }));
      expect(await endpointRow(app.db.pool, endpointId)).toEqual({ failures: 1, backoffUntil });
      expect(await claim(at)).toEqual([]);

      const after = new Date(at.getTime() + 6000);
      const probe = await claim(after);
      expect(probe).toHaveLength(1);
      expect(await claim(after)).toEqual([]);
      await store.markDelivered(probe[0]!, after, 200);
      expect(await endpointRow(app.db.pool, endpointId)).toEqual({ failures: 0, backoffUntil: null });
      expect(await claim(after)).toHaveLength(2);
    });
  });

  it('keeps, past retention, the changes a disabled endpoint has yet to receive, and not a retired one’s', async () => {
    const { store, endpoint, jobId } = await setUp();
    await store.disableEndpoint(endpoint.id, 'HTTP 410 Gone', new Date());
    const feed = createChangeFeed({ pool: app.db.pool });
    const ours = async () =>
      (await app.db.pool.query('SELECT count(*)::int AS n FROM job_changes WHERE job_id = $1', [jobId]))
        .rows[0].n;
    const pastRetention = new Date(Date.now() + 86_400_000);
    expect(await ours()).toBe(2);
    await feed.purge(pastRetention, 10_000, new Date());
    expect(await ours()).toBe(2);

    // An hour on, beyond what the tests before it marked configured ahead of time.
    await feed.purge(pastRetention, 10_000, later(1));
    expect(await ours()).toBe(0);
  });
});
