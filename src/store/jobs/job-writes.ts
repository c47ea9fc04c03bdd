import type { JobChange } from '../../domain/job-change.js';
import type { FieldCipher } from '../../security/field-cipher.js';
import { type Columns, columnList, keysOf, parameterList, prefixed, statement } from '../sql.js';
import { DECISION_COLUMN_LIST, DECISION_PARAMETERS, encodeDecision } from './decision-columns.js';
import { encodeOutcome, OUTCOME_COLUMNS, OUTCOME_FIELDS } from './job-table.js';

/**
 * One atomic statement that writes a job's new outcome together with the evidence that produced it
 * (a stored callback or a job_status snapshot) and the transition it caused. For an existing job the
 * write is a compare-and-swap on `version`: if anyone wrote the job since it was read, nothing is
 * written and the caller reads and decides again.
 */

/** Where a kind of evidence goes: its table, its columns (`job_id` is the job's), its transition link. */
export interface EvidenceTable<F extends string> {
  table: 'callback_events' | 'status_snapshots';
  columns: Columns<F>;
  /** The transition's column that points at the evidence row. */
  transitionColumn: 'event_id' | 'snapshot_id';
  /** Unique columns whose conflict means "already stored": the job is still written, the row is not. */
  conflictTarget?: string;
}

/** Evidence parameters are named `evidence_<field>`, apart from the job's own. */
const EVIDENCE = 'evidence_';

const OUTCOME_COLUMN_LIST = columnList(OUTCOME_COLUMNS);
const OUTCOME_PARAMETERS = parameterList(OUTCOME_COLUMNS);

/**
 * The evidence's values, its parameters, except where the job's identity data was erased (on request or
 * by retention): then the evidence keeps its digest and metadata and no body, as a callback over its
 * source's quota does. Decided in the statement, from the row it writes, so a concurrent erasure cannot
 * slip between deciding and writing: the compare-and-swap on `version`, which erasure bumps, sees to it.
 */
function evidenceValues<F extends string>(evidence: EvidenceTable<F>): string {
  return keysOf(evidence.columns)
    .map((field) => {
      const { name, type } = evidence.columns[field];
      const parameter = `:${EVIDENCE}${field}::${type}`;
      if (name === 'body' || name === 'body_objects')
        return `CASE WHEN job.erased THEN NULL ELSE ${parameter} END`;
      if (name === 'body_withheld') return `(${parameter} OR job.erased)`;
      return parameter;
    })
    .join(', ');
}

function evidenceSql<F extends string>(evidence: EvidenceTable<F>): string {
  const conflict = evidence.conflictTarget ? `ON CONFLICT (${evidence.conflictTarget}) DO NOTHING` : '';
  return `
evidence AS (
  INSERT INTO ${evidence.table} (job_id, ${columnList(evidence.columns)})
  SELECT job.job_id, ${evidenceValues(evidence)} FROM job
  ${conflict}
  RETURNING id
), transition AS (
  INSERT INTO job_transitions (job_id, ${evidence.transitionColumn}, from_state, to_state, from_final, to_final, at)
  SELECT job.job_id, evidence.id, :fromState::job_state, :toState::job_state, :fromFinal::boolean,
         :toFinal::boolean, :at::timestamptz
    FROM job LEFT JOIN evidence ON true
   WHERE :transitioned::boolean
)
SELECT count(*)::int AS written, COALESCE(bool_or(job.erased), false) AS erased,
       (SELECT count(*) FROM evidence)::int AS "evidenceStored"
  FROM job`;
}

const CREATE_JOB = `
WITH job AS (
  INSERT INTO jobs (job_id, created_at, updated_at, last_event_at, event_count, untrusted_event_count, check_count,
                    next_check_at, stale_at, last_checked_at, untrusted_check_at, version, ${OUTCOME_COLUMN_LIST},
                    ${DECISION_COLUMN_LIST})
  VALUES (:jobId, :at::timestamptz, :at::timestamptz, CASE WHEN :events::integer > 0 THEN :at::timestamptz END,
          :events::integer, :untrustedEvents::integer, :checks::integer, :nextCheckAt::timestamptz,
          :staleAt::timestamptz, :lastCheckedAt::timestamptz, :untrustedCheckAt::timestamptz, 1,
          ${OUTCOME_PARAMETERS}, ${DECISION_PARAMETERS})
  ON CONFLICT (job_id) DO NOTHING
  RETURNING job_id, false AS erased
),`;

/** Once retention has erased a job's ID record, no later merge may write it back. */
const UPDATE_OUTCOME_PARAMETERS = OUTCOME_FIELDS.map((field) =>
  field === 'idInfo'
    ? 'CASE WHEN jobs.purged_at IS NULL THEN :idInfo::bytea END'
    : `:${field}::${OUTCOME_COLUMNS[field].type}`,
).join(', ');

const UPDATE_JOB = `
WITH job AS (
  UPDATE jobs SET (${OUTCOME_COLUMN_LIST}) = ROW(${UPDATE_OUTCOME_PARAMETERS}),
         (${DECISION_COLUMN_LIST}) = ROW(${DECISION_PARAMETERS}),
         updated_at = :at::timestamptz,
         last_event_at = CASE WHEN :events::integer > 0 THEN :at::timestamptz ELSE last_event_at END,
         event_count = event_count + :events::integer,
         untrusted_event_count = untrusted_event_count + :untrustedEvents::integer,
         check_count = check_count + :checks::integer,
         next_check_at = :nextCheckAt::timestamptz, stale_at = :staleAt::timestamptz,
         last_checked_at = COALESCE(:lastCheckedAt::timestamptz, last_checked_at),
         untrusted_check_at = :untrustedCheckAt::timestamptz,
         version = version + 1
   WHERE job_id = :jobId AND version = :version::integer
  RETURNING job_id, purged_at IS NOT NULL AS erased
),`;

/** A change to write: the job, the version it was read at (undefined: a new job), and its evidence. */
export interface JobWrite<F extends string> {
  jobId: string;
  version: number | undefined;
  change: JobChange;
  at: Date;
  evidence: Readonly<Record<F, unknown>>;
}

/** The create and the compare-and-swap statement for one kind of evidence, compiled once. */
export function jobWriteStatements<F extends string>(evidence: EvidenceTable<F>, name: string) {
  const tail = evidenceSql(evidence);
  const create = statement(CREATE_JOB + tail, `${name}-create`);
  const update = statement(UPDATE_JOB + tail, `${name}-update`);
  return (write: JobWrite<F>, cipher: FieldCipher) => {
    const { change } = write;
    const { transition, after } = change;
    const values = {
      jobId: write.jobId,
      version: write.version ?? 0,
      at: write.at,
      ...change.counts,
      nextCheckAt: change.nextCheckAt,
      staleAt: change.staleAt,
      lastCheckedAt: change.lastCheckedAt,
      untrustedCheckAt: change.untrustedCheckAt,
      ...encodeOutcome(after, cipher),
      ...encodeDecision(change.decision),
      transitioned: transition !== undefined,
      fromState: transition?.fromState ?? null,
      toState: transition?.toState ?? after.state,
      fromFinal: transition?.fromFinal ?? null,
      toFinal: transition?.toFinal ?? after.isFinal,
      ...prefixed(EVIDENCE, write.evidence),
    };
    return write.version === undefined ? create.bind(values) : update.bind(values);
  };
}
