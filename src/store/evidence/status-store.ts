import type pg from 'pg';
import type { JobDecision } from '../../domain/decision/job-decision.js';
import type { FieldCipher } from '../../security/field-cipher.js';
import { DECISION_COLUMN_LIST, DECISION_PARAMETERS, encodeDecision } from '../jobs/decision-columns.js';
import { decodeJob, jobSelectList, type StoredJob } from '../jobs/job-table.js';
import { type JobWrite, jobWriteStatements } from '../jobs/job-writes.js';
import type { BodyVault, StashedBody } from '../objects/body-vault.js';
import { statement } from '../sql.js';
import { SUBMISSION_VIEW_SELECT_LIST } from '../submissions/submission-table.js';
import { inTransaction } from '../transactions.js';
import { STATUS_SNAPSHOTS, type StatusSnapshotField } from './evidence-tables.js';

/** The job with its submission, if it has one: an answer showing the zip also settles the submission. */
const LOAD = statement<'jobId'>(
  `SELECT ${jobSelectList()}, ${SUBMISSION_VIEW_SELECT_LIST}
     FROM jobs j LEFT JOIN submissions s ON s.job_id = j.job_id WHERE j.job_id = :jobId`,
  'status-read',
);

const WRITE = jobWriteStatements(STATUS_SNAPSHOTS, 'status');

/** The callback whose final claim job_status contradicted, found by its content hash. */
const MARK_CONTRADICTED = statement<'jobId' | 'contentHash' | 'at'>(`
UPDATE callback_events SET contradicted_at = :at
 WHERE content_hash = :contentHash AND job_id = :jobId AND contradicted_at IS NULL`);

/**
 * Smile ID has the submission's zip, as the job_status answer written with it shows: whatever the worker
 * last recorded (an attempt that died mid-PUT, or failed before it heard the answer), it is uploaded,
 * and its content goes as the worker's own mark would delete it. The job's schedule is the answer's.
 */
const MARK_SUBMISSION_RECEIVED = statement<'jobId' | 'smileJobId' | 'at'>(`
UPDATE submissions SET status = 'uploaded', payload = NULL, prepared = NULL, next_attempt_at = NULL,
                       smile_job_id = COALESCE(smile_job_id, :smileJobId), submitted_at = :at::timestamptz,
                       error_code = NULL, error_message = NULL, updated_at = :at::timestamptz
 WHERE job_id = :jobId AND status <> 'uploaded'
RETURNING created_at AS "createdAt"`);

/** A check that produced nothing to merge; the decision follows the schedule (a stale job decides otherwise). */
const POSTPONE = statement(`
UPDATE jobs SET next_check_at = :nextCheckAt::timestamptz, stale_at = :staleAt::timestamptz,
       last_checked_at = :checkedAt, (${DECISION_COLUMN_LIST}) = ROW(${DECISION_PARAMETERS}),
       check_count = check_count + 1, version = version + 1, updated_at = :checkedAt
 WHERE job_id = :jobId AND version = :version::integer`);

/** What a status write did. */
export interface StatusWritten {
  /** False when another writer changed the job since it was read: nothing was written. */
  written: boolean;
  /** When the job's submission was accepted, if this write marked it uploaded. */
  submissionAcceptedAt: Date | null;
  /** The snapshot's row was written: false for an answer stored before (or a lost race). */
  snapshotStored: boolean;
}

/** Rolls a status write's transaction back when its compare-and-swap lost. */
class LostRace extends Error {}

/** Where a job_status answer becomes rows: the job as the reconciler reads it, and what it decided. */
export function createStatusStore({
  pool,
  cipher,
  vault,
}: {
  pool: pg.Pool;
  cipher: FieldCipher;
  vault: BodyVault;
}) {
  return {
    async load(jobId: string): Promise<StoredJob | undefined> {
      const row = (await pool.query<Record<string, unknown>>(LOAD.bind({ jobId }))).rows[0];
      return row && decodeJob(row, cipher);
    },

    /** The answer made ready for its snapshot row: sealed, its photos in the object store (or kept whole). */
    stashBody(snapshotId: string, body: Buffer): Promise<StashedBody> {
      return vault.stash({ table: 'status_snapshots', id: snapshotId }, body, 'job_status');
    },

    /** Removes the objects of an answer whose row was not written (stored before, or a lost race). */
    discardObjects(stashed: StashedBody): void {
      void vault.discard(stashed.keys);
    },

    /**
     * Writes the job, its snapshot and its transition; with `contradicts`, marks that callback in the
     * same transaction, so the job and the mark commit together or neither does; with
     * `submissionReceived` (the answer shows Smile ID has the zip), marks the job's submission uploaded
     * in it too, so that no reader ever sees the job confirmed and its submission still uploading.
     * `written` false: lost a race, nothing written.
     */
    async write(
      write: JobWrite<StatusSnapshotField>,
      contradicts: { contentHash: string } | null,
      submissionReceived = false,
    ): Promise<StatusWritten> {
      const query = WRITE(write, cipher);
      if (contradicts === null && !submissionReceived) {
        const row = (await pool.query<{ written: number; evidenceStored: number }>(query)).rows[0];
        const written = row?.written === 1;
        return { written, submissionAcceptedAt: null, snapshotStored: written && row?.evidenceStored === 1 };
      }
      return inTransaction(pool, async (client) => {
        // The submission first: the worker's own mark locks the submission, then the job, and two
        // writers taking the two rows in opposite orders could deadlock.
        const marked = submissionReceived
          ? await client.query<{ createdAt: Date }>(
              MARK_SUBMISSION_RECEIVED.bind({
                jobId: write.jobId,
                smileJobId: write.change.after.smileJobId,
                at: write.at,
              }),
            )
          : undefined;
        const { rows } = await client.query<{ written: number; evidenceStored: number }>(query);
        if (rows[0]?.written !== 1) throw new LostRace();
        if (contradicts !== null) {
          await client.query(
            MARK_CONTRADICTED.bind({
              jobId: write.jobId,
              contentHash: contradicts.contentHash,
              at: write.at,
            }),
          );
        }
        return {
          written: true,
          submissionAcceptedAt: marked?.rows[0]?.createdAt ?? null,
          snapshotStored: rows[0].evidenceStored === 1,
        };
      }).catch((error: unknown) => {
        if (error instanceof LostRace)
          return { written: false, submissionAcceptedAt: null, snapshotStored: false };
        throw error;
      });
    },

    /** Counts a check that produced nothing to merge and sets the next; false when the job changed since read. */
    async postpone(
      jobId: string,
      version: number,
      {
        nextCheckAt,
        staleAt,
        decision,
      }: { nextCheckAt: Date | null; staleAt: Date | null; decision: JobDecision },
      checkedAt: Date,
    ): Promise<boolean> {
      const { rowCount } = await pool.query(
        POSTPONE.bind({ jobId, version, nextCheckAt, staleAt, checkedAt, ...encodeDecision(decision) }),
      );
      return rowCount === 1;
    },
  };
}

export type StatusStore = ReturnType<typeof createStatusStore>;
