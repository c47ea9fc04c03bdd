import type pg from 'pg';

/** What a caller read: a job's `idInfo`, the stored bodies of its events, or its image links (never stored). */
export type IdentityRead = 'idInfo' | 'body' | 'images';

export interface AuditedRead {
  jobId: string;
  /** The bearer token's fingerprint (bearer-auth.ts), never the token. */
  fingerprint: string;
  read: IdentityRead;
  /** The route pattern, e.g. `GET /v1/jobs/:jobId`. */
  route: string;
  requestId: string;
  /** A reviewer's read: recorded (and allowed) only while the job's decision is `review`. */
  whileInReview?: boolean;
}

/** Only for a job that exists (and is in review, for a reviewer): a read of nothing is not a read of identity data. */
const RECORD_SQL = `
INSERT INTO audit_log (at, token_fingerprint, job_id, data_read, route, request_id)
SELECT $1, $2, $3, $4, $5, $6
 WHERE EXISTS (SELECT 1 FROM jobs WHERE job_id = $3 AND (NOT $7::boolean OR decision = 'review'))
RETURNING id`;

/**
 * The audit trail of identity-data reads: when, which token, which job, what, through which route;
 * never the data. A row is committed before the data is read, so a read that could not be recorded
 * fails instead of happening unrecorded. Erasures and people's decisions on reviews are recorded in the
 * same trail by the statements that make them (identity-maintenance.ts, jobs/reviews.ts).
 */
export function createAuditLog({ pool, now }: { pool: pg.Pool; now: () => Date }) {
  /** Records the read; false (and no row) when the job does not exist, or is not in review for a reviewer. */
  async function recordRead(read: AuditedRead): Promise<boolean> {
    const { rowCount } = await pool.query(RECORD_SQL, [
      now(),
      read.fingerprint,
      read.jobId,
      read.read,
      read.route,
      read.requestId,
      read.whileInReview ?? false,
    ]);
    return rowCount === 1;
  }

  return { recordRead };
}

export type AuditLog = ReturnType<typeof createAuditLog>;
