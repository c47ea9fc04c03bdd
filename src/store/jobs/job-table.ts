import type { JobDecision } from '../../domain/decision/job-decision.js';
import { emptyEvidence, type ResultEvidence } from '../../domain/evidence.js';
import type { IdInfo, JobState, SuspectUser } from '../../domain/facets.js';
import type { JobSchedule } from '../../domain/job-change.js';
import type { IdentitySource, JobOutcome } from '../../domain/outcome.js';
import type { FacetRank } from '../../domain/rank.js';
import { type FieldCipher, sealContext } from '../../security/field-cipher.js';
import { type Columns, keysOf, selectList } from '../sql.js';
import { decodeSubmissionView, type SubmissionView } from '../submissions/submission-table.js';
import { DECISION_COLUMNS, decodeDecision } from './decision-columns.js';

/**
 * The `jobs` table, defined once: which column holds each field of a job's outcome and of its
 * bookkeeping, with its SQL type. Statements, parameters and decoded rows all come from here.
 */

/** What the store keeps about a job beside its outcome. */
export interface JobBookkeeping extends JobSchedule {
  eventCount: number;
  untrustedEventCount: number;
  /** Bumped by every write: writers compare-and-swap on it. */
  version: number;
  updatedAt: Date;
  lastEventAt: Date | null;
  registeredAt: Date | null;
  idType: string | null;
  country: string | null;
  lastCheckedAt: Date | null;
  checkCount: number;
}

/**
 * A job as stored: its outcome (the ID record opened only when it was asked for), its bookkeeping, and
 * its submission when the read joined it (null otherwise, and for jobs not submitted through us).
 */
export interface StoredJob extends JobBookkeeping {
  outcome: JobOutcome;
  decision: JobDecision;
  submission: SubmissionView | null;
}

type OutcomeField = Exclude<keyof JobOutcome, 'jobId'>;

export const OUTCOME_COLUMNS = {
  userId: { name: 'user_id', type: 'text' },
  jobType: { name: 'job_type', type: 'integer' },
  smileJobId: { name: 'smile_job_id', type: 'text' },
  smileJobIds: { name: 'smile_job_ids', type: 'text[]' },
  state: { name: 'state', type: 'job_state' },
  isFinal: { name: 'is_final', type: 'boolean' },
  confirmed: { name: 'confirmed', type: 'boolean' },
  resultCode: { name: 'result_code', type: 'text' },
  resultText: { name: 'result_text', type: 'text' },
  actions: { name: 'actions', type: 'jsonb' },
  idInfo: { name: 'id_info', type: 'bytea' },
  idNumberPreviouslyRegistered: { name: 'id_number_previously_registered', type: 'boolean' },
  previousRegistrantUserIds: { name: 'previous_registrant_user_ids', type: 'text[]' },
  suspectUsers: { name: 'suspect_users', type: 'jsonb' },
  smileSecureCode: { name: 'smile_secure_code', type: 'text' },
  ranks: { name: 'ranks', type: 'jsonb' },
  evidence: { name: 'evidence', type: 'jsonb' },
  identity: { name: 'identity_source', type: 'text' },
  identityAt: { name: 'identity_at', type: 'timestamptz' },
  identityConflictAt: { name: 'identity_conflict_at', type: 'timestamptz' },
  untrustedAt: { name: 'untrusted_at', type: 'timestamptz' },
  tracked: { name: 'tracked', type: 'boolean' },
  needsConfirmation: { name: 'needs_confirmation', type: 'boolean' },
  finalizedAt: { name: 'finalized_at', type: 'timestamptz' },
} as const satisfies Columns<OutcomeField>;

export const BOOKKEEPING_COLUMNS = {
  jobId: { name: 'job_id', type: 'text' },
  eventCount: { name: 'event_count', type: 'integer' },
  untrustedEventCount: { name: 'untrusted_event_count', type: 'integer' },
  version: { name: 'version', type: 'integer' },
  createdAt: { name: 'created_at', type: 'timestamptz' },
  updatedAt: { name: 'updated_at', type: 'timestamptz' },
  lastEventAt: { name: 'last_event_at', type: 'timestamptz' },
  registeredAt: { name: 'registered_at', type: 'timestamptz' },
  idType: { name: 'id_type', type: 'text' },
  country: { name: 'country', type: 'text' },
  nextCheckAt: { name: 'next_check_at', type: 'timestamptz' },
  lastCheckedAt: { name: 'last_checked_at', type: 'timestamptz' },
  checkCount: { name: 'check_count', type: 'integer' },
  staleAt: { name: 'stale_at', type: 'timestamptz' },
  untrustedCheckAt: { name: 'untrusted_check_at', type: 'timestamptz' },
} as const satisfies Columns<keyof JobBookkeeping | 'jobId'>;

export const OUTCOME_FIELDS = keysOf(OUTCOME_COLUMNS);

/** Kept as epoch milliseconds in the outcome (the domain compares them), as timestamptz in the row. */
const EPOCH_FIELDS: ReadonlySet<OutcomeField> = new Set<OutcomeField>([
  'identityAt',
  'identityConflictAt',
  'untrustedAt',
]);

/** Every column, each as its field (`j.user_id AS "userId"`); `omit` selects NULL in a field's place. */
export function jobSelectList(omit: ReadonlySet<string> = new Set()): string {
  const list = (columns: Columns<string>) =>
    keysOf(columns).map((field) =>
      omit.has(field) ? `NULL AS "${field}"` : selectList(columns, 'j', [field]),
    );
  return [...list(BOOKKEEPING_COLUMNS), ...list(OUTCOME_COLUMNS), ...list(DECISION_COLUMNS)].join(', ');
}

/**
 * A row keyed by field (jobSelectList's, or Prisma's model, which uses the same names) as a StoredJob.
 * With a cipher the ID authority's record is opened; without one it is left out (null).
 */
export function decodeJob(row: Record<string, unknown>, cipher?: FieldCipher): StoredJob {
  const value = <T>(field: string) => row[field] as T;
  const jobId = value<string>('jobId');
  // Prisma names the identity column's field after the column; raw SQL after the outcome's field.
  const identity = value<IdentitySource | null>('identity') ?? value<IdentitySource | null>('identitySource');
  const epoch = (field: OutcomeField) => value<Date | null>(field)?.getTime() ?? null;
  const sealedIdInfo = value<Uint8Array | null>('idInfo');
  return {
    eventCount: value('eventCount'),
    untrustedEventCount: value('untrustedEventCount'),
    version: value('version'),
    createdAt: value('createdAt'),
    updatedAt: value('updatedAt'),
    lastEventAt: value('lastEventAt'),
    registeredAt: value('registeredAt'),
    idType: value('idType'),
    country: value('country'),
    nextCheckAt: value('nextCheckAt'),
    lastCheckedAt: value('lastCheckedAt'),
    checkCount: value('checkCount'),
    staleAt: value('staleAt'),
    untrustedCheckAt: value('untrustedCheckAt'),
    submission: decodeSubmissionView(row),
    decision: decodeDecision(row),
    outcome: {
      jobId,
      userId: value('userId'),
      jobType: value('jobType'),
      smileJobId: value('smileJobId'),
      smileJobIds: value<string[] | null>('smileJobIds') ?? [],
      state: value<JobState>('state'),
      isFinal: value('isFinal'),
      confirmed: value('confirmed'),
      resultCode: value('resultCode'),
      resultText: value('resultText'),
      actions: value<Record<string, string> | null>('actions') ?? null,
      idInfo:
        cipher && sealedIdInfo ? (cipher.openJson(sealedIdInfo, sealContext.idInfo(jobId)) as IdInfo) : null,
      idNumberPreviouslyRegistered: value('idNumberPreviouslyRegistered'),
      previousRegistrantUserIds: value<string[] | null>('previousRegistrantUserIds') ?? [],
      suspectUsers: value<SuspectUser[] | null>('suspectUsers') ?? [],
      smileSecureCode: value('smileSecureCode'),
      ranks: value<JobOutcome['ranks'] | null>('ranks') ?? ({} as Partial<Record<string, FacetRank>>),
      evidence: { ...emptyEvidence(), ...value<Partial<ResultEvidence> | null>('evidence') },
      identity: identity ?? null,
      identityAt: epoch('identityAt'),
      identityConflictAt: epoch('identityConflictAt'),
      untrustedAt: epoch('untrustedAt'),
      tracked: value('tracked'),
      needsConfirmation: value('needsConfirmation'),
      finalizedAt: value('finalizedAt'),
    },
  };
}

/** The outcome as parameter values keyed by field; the ID record sealed, JSON columns as text. */
export function encodeOutcome(outcome: JobOutcome, cipher: FieldCipher): Record<OutcomeField, unknown> {
  const encoded = {} as Record<OutcomeField, unknown>;
  for (const field of OUTCOME_FIELDS) {
    const value = outcome[field];
    if (field === 'idInfo') {
      encoded[field] = value === null ? null : cipher.sealJson(value, sealContext.idInfo(outcome.jobId));
    } else if (EPOCH_FIELDS.has(field)) {
      encoded[field] = value === null ? null : new Date(value as number);
    } else {
      encoded[field] =
        OUTCOME_COLUMNS[field].type === 'jsonb' && value !== null ? JSON.stringify(value) : value;
    }
  }
  return encoded;
}
