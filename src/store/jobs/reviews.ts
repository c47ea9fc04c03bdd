import type pg from 'pg';
import type { JobDecision } from '../../domain/decision/job-decision.js';
import { statement } from '../sql.js';
import { SUBMISSION_VIEW_SELECT_LIST } from '../submissions/submission-table.js';
import { DECISION_COLUMN_LIST, DECISION_PARAMETERS, encodeDecision } from './decision-columns.js';
import { decodeJob, jobSelectList, type StoredJob } from './job-table.js';

/** The job as a review reads it: what its decision rests on, with its version; never its identity data. */
const LOAD = statement<'jobId'>(
  `SELECT ${jobSelectList(new Set(['idInfo']))}, ${SUBMISSION_VIEW_SELECT_LIST}
     FROM jobs j LEFT JOIN submissions s ON s.job_id = j.job_id WHERE j.job_id = :jobId`,
  'review-read',
);

/**
 * A person's decision, written over the decision of a job still in review and still at the version it
 * was read at, in the same statement as its audit row: there is never a decision without its row, nor a
 * row for a decision that lost to a concurrent write. Only the decision's columns change: Smile ID's
 * evidence is never touched by a review. The job's change feed trigger records the change.
 */
const SETTLE = statement(`
WITH job AS (
  UPDATE jobs SET (${DECISION_COLUMN_LIST}) = ROW(${DECISION_PARAMETERS}),
         version = version + 1, updated_at = :at::timestamptz
   WHERE job_id = :jobId AND version = :version::integer AND decision = 'review'
  RETURNING job_id
)
INSERT INTO audit_log (at, token_fingerprint, job_id, data_read, route, request_id, details)
SELECT :at::timestamptz, :fingerprint, job_id, 'review', :route, :requestId, :details::jsonb FROM job
RETURNING id`);

/** Who settled the review and through which request: the audit row's columns. */
export interface Reviewer {
  /** The bearer token's fingerprint (api/bearer-auth.ts), never the token. */
  fingerprint: string;
  route: string;
  requestId: string;
}

export interface SettledReview {
  jobId: string;
  /** The job's version when it was read: the write happens only if it is still that. */
  version: number;
  replaced: JobDecision;
  decision: JobDecision;
  /** Free text for the audit trail; never shown with the job. */
  note: string | null;
  reviewer: Reviewer;
  at: Date;
}

/** The decision as the audit row keeps it: what the person decided, why, and what they replaced. */
function auditDetails({ decision, replaced, note }: SettledReview) {
  const { basis: _basis, ...shown } = replaced;
  return {
    decision: decision.value,
    reason: decision.reasons[0] ?? null,
    note,
    replaced: { ...shown, decidedAt: replaced.decidedAt.toISOString() },
  };
}

export function createReviewStore({ pool }: { pool: pg.Pool }) {
  return {
    async load(jobId: string): Promise<StoredJob | undefined> {
      const row = (await pool.query<Record<string, unknown>>(LOAD.bind({ jobId }))).rows[0];
      return row && decodeJob(row);
    },

    /** Writes the person's decision and its audit row; false when the job changed since it was read. */
    async settle(review: SettledReview): Promise<boolean> {
      const { rowCount } = await pool.query(
        SETTLE.bind({
          jobId: review.jobId,
          version: review.version,
          at: review.at,
          ...encodeDecision(review.decision),
          fingerprint: review.reviewer.fingerprint,
          route: review.reviewer.route,
          requestId: review.reviewer.requestId,
          details: JSON.stringify(auditDetails(review)),
        }),
      );
      return rowCount === 1;
    },
  };
}

export type ReviewStore = ReturnType<typeof createReviewStore>;
