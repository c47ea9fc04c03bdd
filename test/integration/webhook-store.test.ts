import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { draftDeliveries } from '../../src/notify/messages.js';
import { createWebhookStore } from '../../src/store/webhook-store.js';
import { createTestApp, type TestApp } from '../helpers/app.js';

/** The deliveries' bookkeeping in Postgres: fan-out, the job's next delivery, and repeats. */
describe('the webhook store', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(() => app.close());

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
      draftDeliveries(changes.filter((change) => change.jobId === jobId));
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

  it('answers, once a delivery is made, the same job’s next pending one, not itself', async () => {
    const { store, fanOut } = await setUp();
    const [first, second] = await fanOut();
    expect(await store.markDelivered(first!, new Date(), 204)).toEqual({ nextId: second });
    expect(await store.markDelivered(second!, new Date(), 204)).toEqual({ nextId: null });
    expect(await store.markDelivered(second!, new Date(), 204)).toBeNull();
  });

  it('makes a change’s messages once, even if it is fanned out again', async () => {
    const { store, endpoint, jobId, fanOut } = await setUp();
    const before = await fanOut();
    await app.db.pool.query('UPDATE webhook_endpoints SET cursor_xid = 0 WHERE id = $1', [endpoint.id]);
    await store.fanOut(endpoint.id, 10_000, new Date(), (changes) =>
      draftDeliveries(changes.filter((change) => change.jobId === jobId)),
    );
    const { rows } = await app.db.pool.query(
      'SELECT count(*)::int AS count FROM webhook_deliveries WHERE endpoint_id = $1 AND job_id = $2',
      [endpoint.id, jobId],
    );
    expect(rows[0].count).toBe(before.length);
  });
});
