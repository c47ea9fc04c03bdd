import type pg from 'pg';
import { statement } from '../sql.js';

/**
 * Claims due jobs and leases them for `leaseMs`: a check that is lost with its worker or with Redis is
 * simply due again after the lease. SKIP LOCKED lets several sweepers run at once.
 */
const CLAIM_DUE = statement<'now' | 'limit' | 'leaseMs'>(`
WITH due AS (
  SELECT job_id,
         -- A callback arrived since the last check: this check confirms it.
         (last_event_at IS NOT NULL AND (last_checked_at IS NULL OR last_event_at > last_checked_at))
           AS confirms,
         -- How late the check is, relative to the interval it was scheduled with.
         extract(epoch FROM :now::timestamptz - next_check_at)
           / GREATEST(1, extract(epoch FROM next_check_at - COALESCE(last_checked_at, created_at))) AS overdue
    FROM jobs
   WHERE next_check_at <= :now
   ORDER BY next_check_at
   LIMIT :limit
   FOR UPDATE SKIP LOCKED
)
UPDATE jobs SET next_check_at = :now::timestamptz + make_interval(secs => :leaseMs::double precision / 1000)
  FROM due WHERE jobs.job_id = due.job_id
RETURNING jobs.job_id AS "jobId", due.confirms, due.overdue::float8 AS overdue`);

/** The one check an untrusted body bought is handed over once: claiming it clears it. */
const CLAIM_UNTRUSTED = statement<'now' | 'limit'>(`
WITH due AS (
  SELECT job_id FROM jobs
   WHERE untrusted_check_at <= :now
   ORDER BY untrusted_check_at
   LIMIT :limit
   FOR UPDATE SKIP LOCKED
)
UPDATE jobs SET untrusted_check_at = NULL, version = version + 1
  FROM due WHERE jobs.job_id = due.job_id
RETURNING jobs.job_id AS "jobId"`);

/** A claimed check: whether it confirms a fresh callback, and how overdue it is against its interval. */
export interface DueCheck {
  jobId: string;
  confirms: boolean;
  overdue: number;
}

export function createDueChecks({ pool }: { pool: pg.Pool }) {
  const ids = (rows: { jobId: string }[]) => rows.map((row) => row.jobId);
  return {
    /** Up to `limit` jobs whose check is due at `now`, leased for `leaseMs`. */
    async claimDue(now: Date, limit: number, leaseMs: number): Promise<DueCheck[]> {
      return (await pool.query<DueCheck>(CLAIM_DUE.bind({ now, limit, leaseMs }))).rows;
    },
    /** Up to `limit` jobs whose untrusted body's check is due. */
    async claimUntrusted(now: Date, limit: number): Promise<string[]> {
      return ids((await pool.query<{ jobId: string }>(CLAIM_UNTRUSTED.bind({ now, limit }))).rows);
    },
  };
}

export type DueChecks = ReturnType<typeof createDueChecks>;
