import type { Transition } from '../domain/merge.js';
import type { JobOutcome } from '../domain/outcome.js';
import type { FieldCipher } from '../security/field-cipher.js';
import { outcomeColumnsSql, outcomeParameters } from './job-record.js';

/**
 * One atomic statement that writes a job's new outcome together with the evidence that produced it
 * (a stored callback or a job_status snapshot) and the transition it caused. For an existing job the
 * write is a compare-and-swap on `version`: if anyone wrote the job since we read it, nothing is
 * written and the caller re-reads and merges again.
 */

/** Where the evidence goes: its table, its columns (after `id` and `job_id`) with SQL types. */
export interface EvidenceTable {
  table: 'callback_events' | 'status_snapshots';
  columns: readonly (readonly [name: string, type: string])[];
  /** The transition's column that points at the evidence row. */
  transitionColumn: 'event_id' | 'snapshot_id';
  /** Unique columns whose conflict means "already stored": the job is still written, the row is not. */
  conflictTarget?: string;
}

export interface JobChange {
  jobId: string;
  /** The version read, or undefined when the job did not exist. */
  version: number | undefined;
  after: JobOutcome;
  transition: Transition | undefined;
  at: Date;
  counts: { events: number; untrustedEvents: number; checks: number };
  nextCheckAt: Date | null;
  staleAt: Date | null;
  /** Null keeps the stored value. */
  lastCheckedAt: Date | null;
  /** The one low-priority check an untrusted body bought, until the probe sweeper queues it. */
  untrustedCheckAt: Date | null;
  evidence: { id: string; values: readonly unknown[] };
}

const OUTCOME_START = 10;
const outcome = outcomeColumnsSql(OUTCOME_START);
const TRANSITION_START = OUTCOME_START + outcome.columns.length;
const VERSION_PARAMETER = TRANSITION_START + 5;
const EVIDENCE_START = VERSION_PARAMETER + 1;

function evidenceSql(evidence: EvidenceTable): string {
  const columns = ['id', 'job_id', ...evidence.columns.map(([name]) => name)];
  const values = [
    `$${EVIDENCE_START}::uuid`,
    'job.job_id',
    ...evidence.columns.map(([, type], index) => `$${EVIDENCE_START + 1 + index}::${type}`),
  ];
  const conflict = evidence.conflictTarget ? `ON CONFLICT (${evidence.conflictTarget}) DO NOTHING` : '';
  const t = (offset: number, type: string) => `$${TRANSITION_START + offset}::${type}`;
  return `
evidence AS (
  INSERT INTO ${evidence.table} (${columns.join(', ')})
  SELECT ${values.join(', ')} FROM job
  ${conflict}
  RETURNING id
), transition AS (
  INSERT INTO job_transitions (job_id, ${evidence.transitionColumn}, from_state, to_state, from_final, to_final, at)
  SELECT job.job_id, evidence.id, ${t(1, 'job_state')}, ${t(2, 'job_state')}, ${t(3, 'boolean')}, ${t(4, 'boolean')},
         $2::timestamptz
    FROM job LEFT JOIN evidence ON true
   WHERE ${t(0, 'boolean')}
)
SELECT count(*)::int AS written FROM job`;
}

const CREATE_JOB = `
WITH job AS (
  INSERT INTO jobs (job_id, created_at, updated_at, last_event_at, event_count, untrusted_event_count, check_count,
                    next_check_at, stale_at, last_checked_at, untrusted_check_at, version, ${outcome.columns.join(', ')})
  VALUES ($1, $2::timestamptz, $2::timestamptz, CASE WHEN $3::integer > 0 THEN $2::timestamptz END, $3::integer,
          $4::integer, $5::integer, $6::timestamptz, $7::timestamptz, $8::timestamptz, $9::timestamptz,
          $${VERSION_PARAMETER}::integer + 1,
          ${outcome.placeholders.join(', ')})
  ON CONFLICT (job_id) DO NOTHING
  RETURNING job_id
),`;

/** Once retention has erased a job's ID record, no later merge may write it back. */
const updatePlaceholders = outcome.placeholders.map((placeholder, index) =>
  outcome.columns[index] === 'id_info'
    ? `CASE WHEN jobs.purged_at IS NULL THEN ${placeholder} END`
    : placeholder,
);

const UPDATE_JOB = `
WITH job AS (
  UPDATE jobs SET (${outcome.columns.join(', ')}) = ROW(${updatePlaceholders.join(', ')}),
         updated_at = $2::timestamptz,
         last_event_at = CASE WHEN $3::integer > 0 THEN $2::timestamptz ELSE last_event_at END,
         event_count = event_count + $3::integer,
         untrusted_event_count = untrusted_event_count + $4::integer,
         check_count = check_count + $5::integer,
         next_check_at = $6::timestamptz, stale_at = $7::timestamptz,
         last_checked_at = COALESCE($8::timestamptz, last_checked_at),
         untrusted_check_at = $9::timestamptz,
         version = version + 1
   WHERE job_id = $1 AND version = $${VERSION_PARAMETER}::integer
  RETURNING job_id
),`;

/** The create and the compare-and-swap statement for one kind of evidence, built once. */
export function jobWriteStatements(evidence: EvidenceTable) {
  const tail = evidenceSql(evidence);
  return { create: CREATE_JOB + tail, update: UPDATE_JOB + tail };
}

export function jobWriteParameters(change: JobChange, cipher: FieldCipher): unknown[] {
  const { transition, after } = change;
  return [
    change.jobId,
    change.at,
    change.counts.events,
    change.counts.untrustedEvents,
    change.counts.checks,
    change.nextCheckAt,
    change.staleAt,
    change.lastCheckedAt,
    change.untrustedCheckAt,
    ...outcomeParameters(after, cipher),
    transition !== undefined,
    transition?.fromState ?? null,
    transition?.toState ?? after.state,
    transition?.fromFinal ?? null,
    transition?.toFinal ?? after.isFinal,
    change.version ?? 0,
    change.evidence.id,
    ...change.evidence.values,
  ];
}
