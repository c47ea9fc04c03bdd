import { emptyEvidence, type ResultEvidence } from '../domain/evidence.js';
import type { IdInfo, JobState, SuspectUser } from '../domain/facets.js';
import type { IdentitySource, JobOutcome } from '../domain/outcome.js';
import type { FacetRank } from '../domain/rank.js';
import { type FieldCipher, sealContext } from '../security/field-cipher.js';

/**
 * A `jobs` row with camelCase keys: the shape Prisma's client returns and the shape the raw-SQL hot path
 * selects (see JOB_SELECT_LIST), so one mapping serves both.
 */
export interface JobRecord {
  jobId: string;
  userId: string | null;
  jobType: number | null;
  smileJobId: string | null;
  smileJobIds: string[];
  state: JobState;
  isFinal: boolean;
  confirmed: boolean;
  resultCode: string | null;
  resultText: string | null;
  actions: unknown;
  /** Sealed (src/security/field-cipher.ts); opened only through outcomeFromRecord with a cipher. */
  idInfo: Uint8Array | null;
  idNumberPreviouslyRegistered: boolean | null;
  previousRegistrantUserIds: string[];
  suspectUsers: unknown;
  smileSecureCode: string | null;
  ranks: unknown;
  evidence: unknown;
  identitySource: string | null;
  identityAt: Date | null;
  identityConflictAt: Date | null;
  untrustedAt: Date | null;
  tracked: boolean;
  untrustedCheckAt: Date | null;
  needsConfirmation: boolean;
  eventCount: number;
  untrustedEventCount: number;
  version: number;
  createdAt: Date;
  updatedAt: Date;
  finalizedAt: Date | null;
  lastEventAt: Date | null;
  registeredAt: Date | null;
  idType: string | null;
  country: string | null;
  nextCheckAt: Date | null;
  lastCheckedAt: Date | null;
  checkCount: number;
  staleAt: Date | null;
}

/** Outcome fields, their columns and SQL types, in the order the store writes them. */
export const OUTCOME_COLUMNS = {
  userId: ['user_id', 'text'],
  jobType: ['job_type', 'integer'],
  smileJobId: ['smile_job_id', 'text'],
  smileJobIds: ['smile_job_ids', 'text[]'],
  state: ['state', 'job_state'],
  isFinal: ['is_final', 'boolean'],
  confirmed: ['confirmed', 'boolean'],
  resultCode: ['result_code', 'text'],
  resultText: ['result_text', 'text'],
  actions: ['actions', 'jsonb'],
  idInfo: ['id_info', 'bytea'],
  idNumberPreviouslyRegistered: ['id_number_previously_registered', 'boolean'],
  previousRegistrantUserIds: ['previous_registrant_user_ids', 'text[]'],
  suspectUsers: ['suspect_users', 'jsonb'],
  smileSecureCode: ['smile_secure_code', 'text'],
  ranks: ['ranks', 'jsonb'],
  evidence: ['evidence', 'jsonb'],
  identity: ['identity_source', 'text'],
  identityAt: ['identity_at', 'timestamptz'],
  identityConflictAt: ['identity_conflict_at', 'timestamptz'],
  untrustedAt: ['untrusted_at', 'timestamptz'],
  tracked: ['tracked', 'boolean'],
  needsConfirmation: ['needs_confirmation', 'boolean'],
  finalizedAt: ['finalized_at', 'timestamptz'],
} as const satisfies Partial<Record<keyof JobOutcome, readonly [string, string]>>;

type OutcomeField = keyof typeof OUTCOME_COLUMNS;
/** Kept as epoch milliseconds in the outcome (the domain compares them), as timestamptz in the row. */
const EPOCH_FIELDS = new Set<OutcomeField>(['identityAt', 'identityConflictAt', 'untrustedAt']);
const OUTCOME_FIELDS = Object.keys(OUTCOME_COLUMNS) as OutcomeField[];

const BOOKKEEPING_COLUMNS = {
  jobId: 'job_id',
  eventCount: 'event_count',
  untrustedEventCount: 'untrusted_event_count',
  version: 'version',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
  lastEventAt: 'last_event_at',
  registeredAt: 'registered_at',
  idType: 'id_type',
  country: 'country',
  nextCheckAt: 'next_check_at',
  lastCheckedAt: 'last_checked_at',
  checkCount: 'check_count',
  staleAt: 'stale_at',
  untrustedCheckAt: 'untrusted_check_at',
} as const satisfies Partial<Record<keyof JobRecord, string>>;

/** `job_id AS "jobId", …` for raw SQL that must return a JobRecord. */
export const JOB_SELECT_LIST = [
  ...Object.entries(BOOKKEEPING_COLUMNS),
  ...OUTCOME_FIELDS.map(
    (field) => [field === 'identity' ? 'identitySource' : field, OUTCOME_COLUMNS[field][0]] as const,
  ),
]
  .map(([field, column]) => `j.${column} AS "${field}"`)
  .join(', ');

/**
 * The outcome a record holds. With a cipher the ID authority's record is opened; without one it is
 * left out (null), for readers that must not see identity data.
 */
export function outcomeFromRecord(record: JobRecord, cipher?: FieldCipher): JobOutcome {
  return {
    jobId: record.jobId,
    userId: record.userId,
    jobType: record.jobType,
    smileJobId: record.smileJobId,
    smileJobIds: record.smileJobIds ?? [],
    state: record.state,
    isFinal: record.isFinal,
    confirmed: record.confirmed,
    resultCode: record.resultCode,
    resultText: record.resultText,
    actions: (record.actions as Record<string, string> | null) ?? null,
    idInfo:
      cipher && record.idInfo
        ? (cipher.openJson(record.idInfo, sealContext.idInfo(record.jobId)) as IdInfo)
        : null,
    idNumberPreviouslyRegistered: record.idNumberPreviouslyRegistered,
    previousRegistrantUserIds: record.previousRegistrantUserIds ?? [],
    suspectUsers: (record.suspectUsers as SuspectUser[] | null) ?? [],
    smileSecureCode: record.smileSecureCode,
    ranks: (record.ranks as Partial<Record<'idInfo' | 'smileSecure', FacetRank>> | null) ?? {},
    evidence: { ...emptyEvidence(), ...(record.evidence as Partial<ResultEvidence> | null) },
    identity: record.identitySource as IdentitySource | null,
    identityAt: record.identityAt?.getTime() ?? null,
    identityConflictAt: record.identityConflictAt?.getTime() ?? null,
    untrustedAt: record.untrustedAt?.getTime() ?? null,
    tracked: record.tracked,
    needsConfirmation: record.needsConfirmation,
    finalizedAt: record.finalizedAt,
  };
}

/** The outcome as SQL parameters, in OUTCOME_COLUMNS order; JSON columns are sent as text. */
export function outcomeParameters(outcome: JobOutcome, cipher: FieldCipher): unknown[] {
  return OUTCOME_FIELDS.map((field) => {
    const value = outcome[field];
    if (field === 'idInfo')
      return value === null ? null : cipher.sealJson(value, sealContext.idInfo(outcome.jobId));
    if (EPOCH_FIELDS.has(field)) return value === null ? null : new Date(value as number);
    return OUTCOME_COLUMNS[field][1] === 'jsonb' && value !== null ? JSON.stringify(value) : value;
  });
}

/**
 * The outcome's columns and their typed placeholders, numbered from `firstParameter`:
 * `{ columns: ['user_id', …], placeholders: ['$3::text', …] }`.
 */
export function outcomeColumnsSql(firstParameter: number): { columns: string[]; placeholders: string[] } {
  return {
    columns: OUTCOME_FIELDS.map((field) => OUTCOME_COLUMNS[field][0]),
    placeholders: OUTCOME_FIELDS.map(
      (field, index) => `$${firstParameter + index}::${OUTCOME_COLUMNS[field][1]}`,
    ),
  };
}
