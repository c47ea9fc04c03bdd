import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { draftDeliveries } from '../../src/notify/messages.js';
import { createWebhookStore } from '../../src/store/webhooks/webhook-store.js';
import { TEST_CURSORS } from './app.js';

/** A delivery's row as the tests read it. */
export interface DeliveryRow {
  id: string;
  status: 'pending' | 'delivered' | 'dead';
  attempts: number;
  lastError: string | null;
  lastStatus: number | null;
  nextAttemptAt: Date;
  leasedUntil: Date | null;
}

/**
 * A job of its own with deliveries to an endpoint of its own, made from the feed as the notification
 * sweep makes them: the registration's message, then one per change in `changes` (SQL `SET` clauses).
 * The database is shared with other test files: only this job's changes are taken.
 */
export async function jobDeliveries(pool: pg.Pool, url: string, changes: string[] = []) {
  const store = createWebhookStore({ pool });
  const [endpoint] = await store.ensureEndpoints([url], new Date());
  const jobId = `job-${randomUUID()}`;
  await pool.query(
    `INSERT INTO jobs (job_id, user_id, created_at, updated_at, version) VALUES ($1, 'u', now(), now(), 1)`,
    [jobId],
  );
  for (const set of changes) await pool.query(`UPDATE jobs SET ${set} WHERE job_id = $1`, [jobId]);
  const ours: Parameters<typeof store.fanOut>[3] = (feed) =>
    draftDeliveries(
      feed.filter((change) => change.jobId === jobId),
      TEST_CURSORS,
    );
  // Changes become visible when every transaction older than theirs has ended, other tests' too.
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
    await store.fanOut(endpoint!.id, 10_000, new Date(), ours);
    const ids = (await deliveryRows(pool, jobId)).map((row) => row.id);
    if (ids.length > changes.length) return { store, endpoint: endpoint!, jobId, ids };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the job’s changes were not fanned out');
}

/** The job's deliveries, oldest first. */
export async function deliveryRows(pool: pg.Pool, jobId: string): Promise<DeliveryRow[]> {
  const { rows } = await pool.query<DeliveryRow>(
    `SELECT id::text, status::text AS status, attempts, last_error AS "lastError", last_status AS "lastStatus",
            next_attempt_at AS "nextAttemptAt", leased_until AS "leasedUntil"
       FROM webhook_deliveries WHERE job_id = $1 ORDER BY id`,
    [jobId],
  );
  return rows;
}

/** An endpoint's backoff state. */
export async function endpointRow(pool: pg.Pool, endpointId: number) {
  const { rows } = await pool.query<{ failures: number; backoffUntil: Date | null }>(
    'SELECT failures, backoff_until AS "backoffUntil" FROM webhook_endpoints WHERE id = $1',
    [endpointId],
  );
  return rows[0]!;
}
