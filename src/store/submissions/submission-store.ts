import type pg from 'pg';
import type { SubmissionContent, SubmissionStatus } from '../../domain/submission.js';
import { type FieldCipher, sealContext } from '../../security/field-cipher.js';
import { statement } from '../sql.js';
import { inTransaction } from '../transactions.js';
import { createSubmission } from './create-submission.js';
import { openContent } from './sealed-content.js';

export type { CreateResult } from './create-submission.js';

/**
 * The `submissions` table: a job submitted through this service, its sealed content until Smile ID has
 * the zip, and the prep upload's answer until then, so that a crash between the prep upload and the
 * `PUT` resumes with the upload URL it has.
 */

/** The prep upload's answer, sealed at rest: the upload URL is a credential, the rest goes in the zip. */
export interface PreparedUpload {
  uploadUrl: string;
  smileJobId: string;
  serverInformation: Record<string, unknown>;
  signature: string;
  timestamp: string;
  retry: boolean;
}

/** A submission as the worker needs it: its content opened, unless it is done or erased. */
export interface StoredSubmission {
  jobId: string;
  status: SubmissionStatus;
  attempts: number;
  content: SubmissionContent | null;
  prepared: PreparedUpload | null;
  retryPrep: boolean;
  createdAt: Date;
}

const LOAD = statement<'jobId'>(`
SELECT job_id AS "jobId", status, attempts, payload, prepared, retry_prep AS "retryPrep",
       created_at AS "createdAt"
  FROM submissions WHERE job_id = :jobId`);

/** Claims an attempt: counted, and not queued again by the sweep before `leaseUntil`. */
const BEGIN_ATTEMPT = statement<'jobId' | 'at' | 'leaseUntil'>(`
UPDATE submissions SET status = 'uploading', attempts = attempts + 1, updated_at = :at::timestamptz,
                       next_attempt_at = :leaseUntil::timestamptz
 WHERE job_id = :jobId AND status IN ('queued', 'uploading')
RETURNING attempts`);

const SAVE_PREPARED = statement<'jobId' | 'prepared' | 'smileJobId' | 'at'>(`
UPDATE submissions SET prepared = :prepared, smile_job_id = :smileJobId, prepared_at = :at::timestamptz,
                       retry_prep = false, updated_at = :at::timestamptz
 WHERE job_id = :jobId AND status IN ('queued', 'uploading')`);

/** The job id was prepared before (its URL expired, or its answer was lost): prepare again with retry. */
const PREPARE_AGAIN = statement<'jobId' | 'at'>(`
UPDATE submissions SET prepared = NULL, retry_prep = true, updated_at = :at::timestamptz
 WHERE job_id = :jobId AND status IN ('queued', 'uploading')`);

const RECORD_ERROR = statement<'jobId' | 'code' | 'message' | 'at'>(`
UPDATE submissions SET error_code = :code, error_message = :message, updated_at = :at::timestamptz
 WHERE job_id = :jobId AND status IN ('queued', 'uploading')`);

/**
 * Smile ID has the zip: the content is deleted in the same statement, and the job becomes due for its
 * first check. Applies whatever the status (an erasure may have raced the upload: the upload happened).
 */
const MARK_UPLOADED = statement<'jobId' | 'smileJobId' | 'at' | 'nextCheckAt'>(`
WITH submission AS (
  UPDATE submissions SET status = 'uploaded', payload = NULL, prepared = NULL, next_attempt_at = NULL,
                         smile_job_id = COALESCE(:smileJobId, smile_job_id), submitted_at = :at::timestamptz,
                         error_code = NULL, error_message = NULL, updated_at = :at::timestamptz
   WHERE job_id = :jobId AND status <> 'uploaded'
  RETURNING job_id, created_at
)
UPDATE jobs j SET next_check_at = LEAST(COALESCE(j.next_check_at, :nextCheckAt::timestamptz), :nextCheckAt::timestamptz),
                  version = j.version + 1, updated_at = :at::timestamptz
  FROM submission WHERE j.job_id = submission.job_id
RETURNING extract(epoch FROM submission.created_at) * 1000 AS "createdAtMs"`);

const MARK_FAILED = statement<'jobId' | 'code' | 'message' | 'at'>(`
UPDATE submissions SET status = 'failed', payload = NULL, prepared = NULL, next_attempt_at = NULL,
                       error_code = :code, error_message = :message, updated_at = :at::timestamptz
 WHERE job_id = :jobId AND status IN ('queued', 'uploading')`);

const STILL_PENDING = statement<'jobId'>(`
SELECT 1 FROM submissions WHERE job_id = :jobId AND status IN ('queued', 'uploading')`);

const DUE = statement<'now' | 'limit'>(`
SELECT job_id AS "jobId" FROM submissions
 WHERE status IN ('queued', 'uploading') AND next_attempt_at <= :now::timestamptz
 ORDER BY next_attempt_at LIMIT :limit::integer`);

const POSTPONE = statement<'jobIds' | 'until'>(`
UPDATE submissions SET next_attempt_at = :until::timestamptz
 WHERE job_id = ANY(:jobIds::text[]) AND status IN ('queued', 'uploading')`);

/** What every statement of the store works with. */
type StoreContext = { pool: pg.Pool; cipher: FieldCipher };

export function createSubmissionStore({ pool, cipher }: { pool: pg.Pool; cipher: FieldCipher }) {
  const db: StoreContext = { pool, cipher };
  return {
    /**
     * Stores a submission and its registered job in one transaction: `created`; the same content under
     * the same job id again: `identical`; other content: `conflict`; a job id this service already
     * knows without a submission: `job_exists`.
     */
    create: (
      jobId: string,
      content: SubmissionContent,
      digestParts: readonly string[],
      times: { at: Date; nextAttemptAt: Date },
    ) => createSubmission(db, jobId, content, digestParts, times),

    load: (jobId: string) => loadSubmission(db, jobId),

    /** The attempt's number, or undefined when the submission is done (uploaded or failed). */
    async beginAttempt(jobId: string, at: Date, leaseUntil: Date): Promise<number | undefined> {
      const { rows } = await pool.query<{ attempts: number }>(BEGIN_ATTEMPT.bind({ jobId, at, leaseUntil }));
      return rows[0]?.attempts;
    },

    /** False once the submission was finished elsewhere: erased (failed), or uploaded. */
    async stillPending(jobId: string): Promise<boolean> {
      return ((await pool.query(STILL_PENDING.bind({ jobId }))).rowCount ?? 0) > 0;
    },

    async savePrepared(jobId: string, prepared: PreparedUpload, at: Date): Promise<void> {
      await pool.query(
        SAVE_PREPARED.bind({
          jobId,
          prepared: cipher.sealJson(prepared, sealContext.submissionPrepared(jobId)),
          smileJobId: prepared.smileJobId,
          at,
        }),
      );
    },

    async prepareAgain(jobId: string, at: Date): Promise<void> {
      await pool.query(PREPARE_AGAIN.bind({ jobId, at }));
    },

    async recordError(jobId: string, error: { code: string; message: string }, at: Date): Promise<void> {
      await pool.query(RECORD_ERROR.bind({ jobId, ...error, at }));
    },

    /** When the submission was accepted, or undefined when it was marked uploaded already. */
    async markUploaded(
      jobId: string,
      { smileJobId, at, nextCheckAt }: { smileJobId: string | null; at: Date; nextCheckAt: Date },
    ): Promise<Date | undefined> {
      const { rows } = await pool.query<{ createdAtMs: string }>(
        MARK_UPLOADED.bind({ jobId, smileJobId, at, nextCheckAt }),
      );
      return rows[0] && new Date(Number(rows[0].createdAtMs));
    },

    /** False when it was done already. */
    async markFailed(jobId: string, error: { code: string; message: string }, at: Date): Promise<boolean> {
      return ((await pool.query(MARK_FAILED.bind({ jobId, ...error, at }))).rowCount ?? 0) > 0;
    },

    /**
     * Submissions no worker has claimed by their `next_attempt_at` (their queued job was lost with
     * Redis, or never queued), postponed to `until` in the same breath so the next sweep skips them.
     */
    async claimDue(now: Date, until: Date, limit: number): Promise<string[]> {
      return inTransaction(pool, async (client) => {
        const jobIds = (await client.query<{ jobId: string }>(DUE.bind({ now, limit }))).rows.map(
          (row) => row.jobId,
        );
        if (jobIds.length > 0) await client.query(POSTPONE.bind({ jobIds, until }));
        return jobIds;
      });
    },
  };
}

async function loadSubmission(
  { pool, cipher }: StoreContext,
  jobId: string,
): Promise<StoredSubmission | undefined> {
  const row = (
    await pool.query<{
      jobId: string;
      status: SubmissionStatus;
      attempts: number;
      payload: Buffer | null;
      prepared: Buffer | null;
      retryPrep: boolean;
      createdAt: Date;
    }>(LOAD.bind({ jobId }))
  ).rows[0];
  if (!row) return undefined;
  return {
    jobId,
    status: row.status,
    attempts: row.attempts,
    content: row.payload && openContent(cipher, jobId, row.payload),
    prepared:
      row.prepared &&
      (cipher.openJson(row.prepared, sealContext.submissionPrepared(jobId)) as PreparedUpload),
    retryPrep: row.retryPrep,
    createdAt: row.createdAt,
  };
}

export type SubmissionStore = ReturnType<typeof createSubmissionStore>;
