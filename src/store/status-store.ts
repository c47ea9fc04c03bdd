import type pg from 'pg';
import { type FieldCipher, sealContext } from '../security/field-cipher.js';
import { STATUS_SNAPSHOTS, type StatusSnapshotField } from './evidence-tables.js';
import { decodeJob, jobSelectList, type StoredJob } from './job-table.js';
import { type JobWrite, jobWriteStatements } from './job-writes.js';
import { statement } from './sql.js';
import { inTransaction } from './transactions.js';

const LOAD = statement<'jobId'>(
  `SELECT ${jobSelectList()} FROM jobs j WHERE j.job_id = :jobId`,
  'status-read',
);

const WRITE = jobWriteStatements(STATUS_SNAPSHOTS, 'status');

/** The callback whose final claim job_status contradicted, found by its content hash. */
const MARK_CONTRADICTED = statement<'jobId' | 'contentHash' | 'at'>(`
UPDATE callback_events SET contradicted_at = :at
 WHERE content_hash = :contentHash AND job_id = :jobId AND contradicted_at IS NULL`);

const POSTPONE = statement<'jobId' | 'version' | 'nextCheckAt' | 'staleAt' | 'checkedAt'>(`
UPDATE jobs SET next_check_at = :nextCheckAt::timestamptz, stale_at = :staleAt::timestamptz,
       last_checked_at = :checkedAt,
       check_count = check_count + 1, version = version + 1, updated_at = :checkedAt
 WHERE job_id = :jobId AND version = :version::integer`);

/** Where a job_status answer becomes rows: the job as the reconciler reads it, and what it decided. */
export function createStatusStore({ pool, cipher }: { pool: pg.Pool; cipher: FieldCipher }) {
  return {
    async load(jobId: string): Promise<StoredJob | undefined> {
      const row = (await pool.query<Record<string, unknown>>(LOAD.bind({ jobId }))).rows[0];
      return row && decodeJob(row, cipher);
    },

    /** The answer's body sealed for its snapshot row. */
    sealBody(snapshotId: string, body: Buffer): Buffer {
      return cipher.seal(body, sealContext.snapshotBody(snapshotId));
    },

    /**
     * Writes the job, its snapshot and its transition; with `contradicts`, marks that callback in the
     * same transaction, so the job and the mark commit together or neither does. False: lost a race.
     */
    async write(
      write: JobWrite<StatusSnapshotField>,
      contradicts: { contentHash: string } | null,
    ): Promise<boolean> {
      const query = WRITE(write, cipher);
      if (contradicts === null) {
        return (await pool.query<{ written: number }>(query)).rows[0]?.written === 1;
      }
      return inTransaction(pool, async (client) => {
        const { rows } = await client.query<{ written: number }>(query);
        if (rows[0]?.written !== 1) return false;
        await client.query(
          MARK_CONTRADICTED.bind({ jobId: write.jobId, contentHash: contradicts.contentHash, at: write.at }),
        );
        return true;
      });
    },

    /** Counts a check that produced nothing to merge and sets the next; false when the job changed since read. */
    async postpone(
      jobId: string,
      version: number,
      { nextCheckAt, staleAt }: { nextCheckAt: Date | null; staleAt: Date | null },
      checkedAt: Date,
    ): Promise<boolean> {
      const { rowCount } = await pool.query(
        POSTPONE.bind({ jobId, version, nextCheckAt, staleAt, checkedAt }),
      );
      return rowCount === 1;
    },
  };
}

export type StatusStore = ReturnType<typeof createStatusStore>;
