import type { Queue } from 'bullmq';
import type pg from 'pg';
import { CHECK_LEASE_MS } from '../domain/poll-schedule.js';
import { catalog, checkJobId } from '../queues/catalog.js';

/**
 * Claims due jobs and leases them for CHECK_LEASE_MS: a check that is lost with its worker or with
 * Redis is simply due again after the lease. SKIP LOCKED lets several sweepers run at once.
 */
const CLAIM_DUE_SQL = `
WITH due AS (
  SELECT job_id FROM jobs
   WHERE next_check_at <= $1
   ORDER BY next_check_at
   LIMIT $2
   FOR UPDATE SKIP LOCKED
)
UPDATE jobs SET next_check_at = $1::timestamptz + make_interval(secs => $3::double precision / 1000)
  FROM due WHERE jobs.job_id = due.job_id
RETURNING jobs.job_id AS "jobId"`;

/**
 * Untrusted bodies' checks are handed over no faster than their queue runs them, so a flood of such
 * bodies waits in Postgres (a timestamp per job) rather than growing a queue in Redis.
 */
const CLAIM_UNTRUSTED_SQL = `
WITH due AS (
  SELECT job_id FROM jobs
   WHERE untrusted_check_at <= $1
   ORDER BY untrusted_check_at
   LIMIT $2
   FOR UPDATE SKIP LOCKED
)
UPDATE jobs SET untrusted_check_at = NULL, version = version + 1
  FROM due WHERE jobs.job_id = due.job_id
RETURNING jobs.job_id AS "jobId"`;

export function createSweeper({
  pool,
  checks,
  untrustedChecks,
  untrustedPerSweep,
  batchSize,
  now = () => new Date(),
}: {
  pool: pg.Pool;
  checks: Queue;
  untrustedChecks: Queue;
  /** At most this many untrusted bodies' checks waiting in Redis at once. */
  untrustedPerSweep: number;
  batchSize: number;
  now?: () => Date;
}) {
  /** Queues due untrusted bodies' checks, topping their queue up to `untrustedPerSweep`. */
  async function sweepUntrusted(): Promise<number> {
    const waiting = await untrustedChecks.count();
    const room = untrustedPerSweep - waiting;
    if (room <= 0) return 0;
    const { rows } = await pool.query<{ jobId: string }>(CLAIM_UNTRUSTED_SQL, [now(), room]);
    if (rows.length === 0) return 0;
    await untrustedChecks.addBulk(
      rows.map(({ jobId }) => ({
        name: catalog.checkUntrusted.name,
        data: catalog.checkUntrusted.data.parse({ jobId }),
        opts: { jobId: checkJobId(jobId, 'untrusted') },
      })),
    );
    return rows.length;
  }

  /** Enqueues every due check, a batch at a time; returns how many were enqueued. */
  async function sweep(): Promise<number> {
    let enqueued = 0;
    for (;;) {
      const { rows } = await pool.query<{ jobId: string }>(CLAIM_DUE_SQL, [now(), batchSize, CHECK_LEASE_MS]);
      if (rows.length === 0) return enqueued + (await sweepUntrusted());
      await enqueueChecks(
        checks,
        rows.map((row) => row.jobId),
      );
      enqueued += rows.length;
      if (rows.length < batchSize) return enqueued + (await sweepUntrusted());
    }
  }
  return { sweep };
}

export async function enqueueChecks(checks: Queue, jobIds: readonly string[]): Promise<void> {
  await checks.addBulk(
    jobIds.map((jobId) => ({
      name: catalog.checkStatus.name,
      data: catalog.checkStatus.data.parse({ jobId }),
      opts: { jobId: checkJobId(jobId) },
    })),
  );
}
