import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';

/**
 * What bench:notify reads from the service's database: the change feed, which says what the endpoint
 * should receive, independently of the deliveries the service made from it; and the deliveries' fate.
 */

/** One webhook message the endpoint should receive, with the time its change was recorded. */
export interface ExpectedMessage {
  /** The webhook-id: `msg_<change id>_updated` or `msg_<change id>_finalized` (src/notify/messages.ts). */
  id: string;
  jobId: string;
  changeId: number;
  event: 'job.updated' | 'job.finalized';
  atMs: number;
}

/** Per the API docs: a `job.updated` for every change, a `job.finalized` after it when the change settled the job. */
const SETTLES = 'to_final AND confirmed AND NOT (from_final IS TRUE AND from_confirmed IS TRUE)';

export async function lastChangeId(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ id: string }>(
    'SELECT coalesce(max(id), 0)::text AS id FROM job_changes',
  );
  return Number(rows[0]!.id);
}

/** The messages of the changes after `afterId`, up to `uptoId`, in feed order. */
export async function expectedMessages(pool: pg.Pool, afterId: number, uptoId: number) {
  const { rows } = await pool.query<{ id: string; jobId: string; atMs: number; settles: boolean }>(
    `SELECT id::text, job_id AS "jobId", (extract(epoch FROM at) * 1000)::float8 AS "atMs", ${SETTLES} AS settles
       FROM job_changes WHERE id > $1 AND id <= $2 ORDER BY job_changes.id`,
    [afterId, uptoId],
  );
  return rows.flatMap(({ id, jobId, atMs, settles }): ExpectedMessage[] => {
    const message = (kind: 'updated' | 'finalized') => ({
      id: `msg_${id}_${kind}`,
      jobId,
      changeId: Number(id),
      event: `job.${kind}` as const,
      atMs,
    });
    return settles ? [message('updated'), message('finalized')] : [message('updated')];
  });
}

/** Messages the whole feed should have made so far, and jobs of `prefix` not yet confirmed. */
export async function progress(pool: pg.Pool, prefix: string) {
  const { rows } = await pool.query<{ messages: number; unconfirmed: number }>(
    `SELECT (SELECT (count(*) + count(*) FILTER (WHERE ${SETTLES}))::int FROM job_changes) AS messages,
            (SELECT count(*)::int FROM jobs WHERE job_id LIKE $1 AND NOT confirmed) AS unconfirmed`,
    [`${prefix}-%`],
  );
  return rows[0]!;
}

/** Waits for the worker's first sweep to register the endpoint: changes before it are not sent to it. */
export async function waitForEndpoint(pool: pg.Pool, url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { rowCount } = await pool.query('SELECT 1 FROM webhook_endpoints WHERE url = $1', [url]);
    if (rowCount) return;
    await sleep(100);
  }
  throw new Error(`the worker did not register the webhook endpoint within ${timeoutMs} ms`);
}

/**
 * A burst: every job changes user in one transaction, as a bulk correction would, so that a change per
 * job is committed at once and delivered in parallel. Resolves with the commit time, as the bench saw it.
 */
export async function moveEveryJob(pool: pg.Pool): Promise<{ committedAt: number }> {
  await pool.query(
    `UPDATE jobs SET user_id = user_id || '-moved', updated_at = now(), version = version + 1`,
  );
  return { committedAt: Date.now() };
}

/** What became of every delivery: tried more than once, dead-lettered, still pending. */
export async function deliveryOutcomes(pool: pg.Pool) {
  const { rows } = await pool.query<{ deliveries: number; retried: number; dead: number; pending: number }>(
    `SELECT count(*)::int AS deliveries, count(*) FILTER (WHERE attempts > 1)::int AS retried,
            count(*) FILTER (WHERE status = 'dead')::int AS dead,
            count(*) FILTER (WHERE status = 'pending')::int AS pending
       FROM webhook_deliveries`,
  );
  return rows[0]!;
}

/** Bodies the service sent, for the baseline to send again; enough variety, within one argv string. */
export async function samplePayloads(pool: pg.Pool, count = 32): Promise<string[]> {
  const { rows } = await pool.query<{ payload: string }>(
    `SELECT payload FROM webhook_deliveries WHERE status = 'delivered' ORDER BY random() LIMIT $1`,
    [count],
  );
  return rows.map((row) => row.payload);
}
