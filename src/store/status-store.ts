import { createHash, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { claimStanding } from '../domain/evidence.js';
import { mergeObservation, type Transition, transitionBetween } from '../domain/merge.js';
import type { JobOutcome } from '../domain/outcome.js';
import { nextCheck } from '../domain/poll-schedule.js';
import { type FieldCipher, sealContext } from '../security/field-cipher.js';
import { classifyJobStatusShape } from '../smileid/classify.js';
import { parseSmileTimestamp } from '../smileid/timestamp.js';
import { JOB_SELECT_LIST, type JobRecord, outcomeFromRecord } from './job-record.js';
import { type EvidenceTable, jobWriteParameters, jobWriteStatements } from './job-writes.js';
import { inTransaction, withCompareAndSwap } from './transactions.js';

/** A verified job_status response, as the client returns it. */
export interface VerifiedStatus {
  body: Record<string, unknown>;
  raw: Buffer;
  timestamp: string;
  signature: string;
}

export interface AppliedStatus {
  outcome: JobOutcome;
  transition: Transition | undefined;
  firstSeenAt: Date;
  schedule: 'scheduled' | 'done' | 'stale';
  /** This answer made the job's final claim contradicted: job_status disagrees with a callback. */
  contradicted: boolean;
}

const STATUS_SNAPSHOTS: EvidenceTable = {
  table: 'status_snapshots',
  transitionColumn: 'snapshot_id',
  conflictTarget: 'job_id, content_hash',
  columns: [
    ['fetched_at', 'timestamptz'],
    ['content_hash', 'text'],
    ['facets', 'text[]'],
    ['job_complete', 'boolean'],
    ['job_success', 'boolean'],
    ['body_bytes', 'integer'],
    ['body', 'bytea'],
  ],
};
const WRITE = jobWriteStatements(STATUS_SNAPSHOTS);
const READ_SQL = `SELECT ${JOB_SELECT_LIST} FROM jobs j WHERE j.job_id = $1`;

/** The callback whose final claim job_status contradicted (its content hash is its rank's hash). */
const MARK_CONTRADICTED_SQL = `
UPDATE callback_events SET contradicted_at = $3
 WHERE content_hash = $2 AND job_id = $1 AND contradicted_at IS NULL`;

/**
 * Where a job_status answer becomes rows: merged as the most authoritative observation, stored as a
 * snapshot (once per distinct content), and the job's next check scheduled from the result.
 */
export function createStatusStore({
  pool,
  horizonMs,
  cipher,
}: {
  pool: pg.Pool;
  horizonMs: number;
  cipher: FieldCipher;
}) {
  async function load(jobId: string): Promise<JobRecord | undefined> {
    return (await pool.query<JobRecord>({ name: 'status-read', text: READ_SQL, values: [jobId] })).rows[0];
  }

  async function applyStatus(
    jobId: string,
    status: VerifiedStatus,
    fetchedAt: Date,
    loaded?: JobRecord,
  ): Promise<AppliedStatus | undefined> {
    const classified = classifyJobStatusShape(status.body);
    const { timestamp: _t, signature: _s, ...content } = status.body;
    const contentHash = createHash('sha256').update(JSON.stringify(content)).digest('hex');
    // The caller's copy serves the first attempt; a lost compare-and-swap reads the job again.
    let known = loaded;
    // Whom job_status was asked about: an answer confirms that user only, even if the job changed since.
    const askedUserId = loaded?.userId;
    return withCompareAndSwap(async () => {
      const record = known ?? (await load(jobId));
      known = undefined;
      if (!record) return undefined as AppliedStatus | undefined;
      const before = outcomeFromRecord(record, cipher);
      const outcome = mergeObservation(before, {
        jobId,
        userId: classified.userId,
        jobType: classified.jobType,
        smileJobIds: classified.smileJobIds,
        facets: classified.facets,
        authority: 'job_status',
        at: parseSmileTimestamp(status.timestamp) ?? fetchedAt.getTime(),
        hash: contentHash,
        receivedAt: fetchedAt,
        trusted: true,
        returnsJob:
          (classified.jobId === jobId || classified.facets.length > 0) &&
          record.userId === (askedUserId ?? record.userId) &&
          (classified.userId === null || classified.userId === record.userId),
      });
      const transition = transitionBetween(before, outcome);
      const next = nextCheck(outcome, record.createdAt, fetchedAt, horizonMs);
      const snapshotId = randomUUID();
      const contradicted =
        claimStanding(outcome.evidence) === 'contradicted' &&
        claimStanding(before.evidence) !== 'contradicted';
      const claim = outcome.evidence.claims.final;
      const write = {
        name: 'status-update',
        text: WRITE.update,
        values: jobWriteParameters(
          {
            jobId,
            version: record.version,
            after: outcome,
            transition,
            at: fetchedAt,
            counts: { events: 0, untrustedEvents: 0, checks: 1 },
            nextCheckAt: 'at' in next ? next.at : null,
            staleAt: 'stale' in next ? (record.staleAt ?? fetchedAt) : null,
            lastCheckedAt: fetchedAt,
            // Whatever an untrusted body wanted to know, this answer has told.
            untrustedCheckAt: null,
            evidence: {
              id: snapshotId,
              values: [
                fetchedAt,
                contentHash,
                classified.kinds,
                typeof status.body.job_complete === 'boolean' ? status.body.job_complete : null,
                typeof status.body.job_success === 'boolean' ? status.body.job_success : null,
                status.raw.length,
                cipher.seal(status.raw, sealContext.snapshotBody(snapshotId)),
              ],
            },
          },
          cipher,
        ),
      };
      // The job and the mark on the callback it contradicts commit together, or neither does.
      const written =
        contradicted && claim
          ? await inTransaction(pool, async (client) => {
              const { rows } = await client.query<{ written: number }>(write);
              if (rows[0]?.written === 1) {
                await client.query(MARK_CONTRADICTED_SQL, [jobId, claim.rank.hash, fetchedAt]);
              }
              return rows[0]?.written === 1;
            })
          : (await pool.query<{ written: number }>(write)).rows[0]?.written === 1;
      if (!written) return null;
      return {
        contradicted,
        outcome,
        transition,
        firstSeenAt: record.createdAt,
        schedule: 'at' in next ? 'scheduled' : 'stale' in next ? 'stale' : 'done',
      };
    });
  }

  /**
   * A check that produced no status (bad signature, failure): try again at `at`. A job that only
   * untrusted bodies know of had its one check and is not polled again.
   */
  async function postpone(jobId: string, at: Date, checkedAt: Date): Promise<void> {
    await pool.query(
      `UPDATE jobs SET next_check_at = CASE WHEN tracked THEN $2::timestamptz END, last_checked_at = $3,
              check_count = check_count + 1, version = version + 1, updated_at = $3
        WHERE job_id = $1`,
      [jobId, at, checkedAt],
    );
  }

  return { load, applyStatus, postpone };
}

export type StatusStore = ReturnType<typeof createStatusStore>;
