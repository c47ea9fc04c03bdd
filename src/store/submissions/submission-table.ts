import type { SubmissionStatus } from '../../domain/submission.js';
import { type Columns, selectList } from '../sql.js';

/**
 * What a job's outcome shows of its submission (docs/api.md#the-job-outcome), read beside the job with
 * `LEFT JOIN submissions s`: null for jobs not submitted through this service.
 */
export interface SubmissionView {
  status: SubmissionStatus;
  attempts: number;
  smileJobId: string | null;
  queuedAt: Date;
  submittedAt: Date | null;
  error: { code: string; message: string } | null;
}

/** The view's columns, selected under `submission_*` field names so they sit beside the job's. */
const VIEW_COLUMNS = {
  submission_status: { name: 'status', type: 'submission_status' },
  submission_attempts: { name: 'attempts', type: 'integer' },
  submission_smileJobId: { name: 'smile_job_id', type: 'text' },
  submission_queuedAt: { name: 'created_at', type: 'timestamptz' },
  submission_submittedAt: { name: 'submitted_at', type: 'timestamptz' },
  submission_errorCode: { name: 'error_code', type: 'text' },
  submission_errorMessage: { name: 'error_message', type: 'text' },
} as const satisfies Columns<string>;

/** `s.status AS "submission_status", …`, for a read that joins `submissions s`. */
export const SUBMISSION_VIEW_SELECT_LIST = selectList(VIEW_COLUMNS, 's');

/** The joined view of a row, or null when the job has no submission (or the read did not join). */
export function decodeSubmissionView(row: Record<string, unknown>): SubmissionView | null {
  const status = row.submission_status as SubmissionStatus | null | undefined;
  if (status === null || status === undefined) return null;
  const code = row.submission_errorCode as string | null;
  return {
    status,
    attempts: row.submission_attempts as number,
    smileJobId: row.submission_smileJobId as string | null,
    queuedAt: row.submission_queuedAt as Date,
    submittedAt: row.submission_submittedAt as Date | null,
    error: code === null ? null : { code, message: (row.submission_errorMessage as string | null) ?? '' },
  };
}
