import type { Queue } from 'bullmq';
import type pg from 'pg';
import { catalog, checkJobId } from './catalog.js';
import { CHECK_LEASE_MS } from './schedule.js';

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

export function createSweeper({
  pool,
  checks,
  batchSize,
  now = () => new Date(),
}: {
  pool: pg.Pool;
  checks: Queue;
  batchSize: number;
  now?: () => Date;
}) {
  /** Enqueues every due check, a batch at a time; returns how many were enqueued. */
  async function sweep(): Promise<number> {
    let enqueued = 0;
    for (;;) {
      const { rows } = await pool.query<{ jobId: string }>(CLAIM_DUE_SQL, [now(), batchSize, CHECK_LEASE_MS]);
      if (rows.length === 0) return enqueued;
      await enqueueChecks(
        checks,
        rows.map((row) => row.jobId),
      );
      enqueued += rows.length;
      if (rows.length < batchSize) return enqueued;
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
