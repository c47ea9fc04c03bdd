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
}

/** Only for a job that exists: a read of nothing is not a read of identity data. */
const RECORD_SQL = `
INSERT INTO audit_log (at, token_fingerprint, job_id, data_read, route, request_id)
SELECT $1, $2, $3, $4, $5, $6
 WHERE EXISTS (SELECT 1 FROM jobs WHERE job_id = $3)
RETURNING id`;

/**
 * The audit trail of identity-data reads: when, which token, which job, what, through which route;
 * never the data. A row is committed before the data is read, so a read that could not be recorded
 * fails instead of happening unrecorded.
 */
export function createAuditLog({ pool, now }: { pool: pg.Pool; now: () => Date }) {
  /** Records the read; false (and no row) when the job does not exist. */
  async function recordRead(read: AuditedRead): Promise<boolean> {
    const { rowCount } = await pool.query(RECORD_SQL, [
      now(),
      read.fingerprint,
      read.jobId,
      read.read,
      read.route,
      read.requestId,
    ]);
    return rowCount === 1;
  }

  return { recordRead };
}

export type AuditLog = ReturnType<typeof createAuditLog>;
