import type pg from 'pg';
import type { DecisionValue } from '../../domain/decision/policy.js';
import type { JobState } from '../../domain/facets.js';
import type { FieldCipher } from '../../security/field-cipher.js';
import { keysOf, statement } from '../sql.js';
import { SUBMISSION_VIEW_SELECT_LIST } from '../submissions/submission-table.js';
import { DECISION_COLUMNS } from './decision-columns.js';
import {
  BOOKKEEPING_COLUMNS,
  decodeJob,
  jobSelectList,
  OUTCOME_COLUMNS,
  type StoredJob,
} from './job-table.js';

/**
 * The API's reads of `jobs`. Identity data is selected only by the read that asked for it, and opened
 * here; every other read selects it as NULL, never sent, never parsed.
 */

/** The fields the API shows. Every other field is selected as NULL, identity data first: a field added later stays unread until it is shown. */
const SHOWN: ReadonlySet<string> = new Set([
  'jobId',
  'userId',
  'jobType',
  'smileJobId',
  'smileJobIds',
  'state',
  'isFinal',
  'confirmed',
  'needsConfirmation',
  'identity',
  'staleAt',
  'lastCheckedAt',
  'nextCheckAt',
  'resultCode',
  'resultText',
  'actions',
  'idNumberPreviouslyRegistered',
  'previousRegistrantUserIds',
  'suspectUsers',
  'smileSecureCode',
  'evidence',
  ...keysOf(DECISION_COLUMNS),
  'createdAt',
  'updatedAt',
  'finalizedAt',
]);
const EVERY_FIELD: readonly string[] = [
  ...keysOf(BOOKKEEPING_COLUMNS),
  ...keysOf(OUTCOME_COLUMNS),
  ...keysOf(DECISION_COLUMNS),
];
const SUMMARY_SELECT_LIST = jobSelectList(new Set(EVERY_FIELD.filter((field) => !SHOWN.has(field))));

/** Every read the API shows joins the job's submission, if it has one. */
const WITH_SUBMISSION = `, ${SUBMISSION_VIEW_SELECT_LIST} FROM jobs j LEFT JOIN submissions s ON s.job_id = j.job_id`;

const READ_JOB = statement<'jobId'>(
  `SELECT ${SUMMARY_SELECT_LIST}${WITH_SUBMISSION} WHERE j.job_id = :jobId`,
  'job-read',
);
const READ_JOB_WITH_ID_INFO = statement<'jobId'>(
  `SELECT ${jobSelectList()}${WITH_SUBMISSION} WHERE j.job_id = :jobId`,
);
const JOB_EXISTS = statement<'jobId'>('SELECT 1 FROM jobs WHERE job_id = :jobId');

/**
 * The review queue: jobs whose decision is `review`, those waiting longest first (since their decision
 * became `review`), from the start or after a position in that order. The partial index on
 * (decided_at, seq) holds only them, in that order.
 */
const reviewQueue = (after: string) =>
  statement(
    `SELECT ${SUMMARY_SELECT_LIST}, j.seq::text AS "seq"${WITH_SUBMISSION}
 WHERE j.decision = 'review'${after}
 ORDER BY j.decided_at, j.seq LIMIT :limit::integer`,
  );
const REVIEW_QUEUE_START = reviewQueue('');
const REVIEW_QUEUE_AFTER = reviewQueue(
  ' AND (j.decided_at, j.seq) > (:afterDecidedAt::timestamptz, :afterSeq::bigint)',
);

/** A place in the review queue: when the job's decision became `review`, then its insertion sequence. */
export interface ReviewQueuePosition {
  decidedAt: Date;
  seq: string;
}

/** The plain read's SQL (`$1` = job id), which the API benchmark's baseline runs too. */
export const READ_JOB_SQL = READ_JOB.text;

export interface JobFilters {
  states?: JobState[] | undefined;
  userId?: string | undefined;
  isFinal?: boolean | undefined;
  updatedSince?: Date | undefined;
  /** null: unknown (no ID record said). */
  idNumberPreviouslyRegistered?: boolean | null | undefined;
  stale?: boolean | undefined;
  decisions?: DecisionValue[] | undefined;
}

/**
 * One page of jobs in insertion order (`seq`), after `afterSeq`. The order never changes for a job, so
 * paging neither skips nor repeats one however jobs are updated in between; jobs inserted meanwhile come
 * after every earlier one. Each selective filter has an index on (filter, seq) or a small partial set.
 */
export function listJobsQuery(filters: JobFilters, afterSeq: string | undefined, limit: number) {
  const values: unknown[] = [];
  const where: string[] = [];
  const parameter = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  const { states, userId, isFinal, updatedSince, idNumberPreviouslyRegistered, stale, decisions } = filters;
  if (states?.length === 1) where.push(`j.state = ${parameter(states[0])}::job_state`);
  else if (states) where.push(`j.state = ANY(${parameter(states)}::job_state[])`);
  if (userId !== undefined) where.push(`j.user_id = ${parameter(userId)}`);
  if (isFinal !== undefined) where.push(`j.is_final = ${parameter(isFinal)}`);
  if (updatedSince !== undefined) where.push(`j.updated_at >= ${parameter(updatedSince)}`);
  // null: no ID record has said either way.
  if (idNumberPreviouslyRegistered === true) where.push('j.id_number_previously_registered = true');
  if (idNumberPreviouslyRegistered === false) where.push('j.id_number_previously_registered = false');
  if (idNumberPreviouslyRegistered === null) where.push('j.id_number_previously_registered IS NULL');
  if (stale !== undefined) where.push(`j.stale_at IS ${stale ? 'NOT NULL' : 'NULL'}`);
  if (decisions?.length === 1) where.push(`j.decision = ${parameter(decisions[0])}::job_decision`);
  else if (decisions) where.push(`j.decision = ANY(${parameter(decisions)}::job_decision[])`);
  if (afterSeq !== undefined) where.push(`j.seq > ${parameter(afterSeq)}::bigint`);
  const text = `SELECT ${SUMMARY_SELECT_LIST}, j.seq::text AS "seq"${WITH_SUBMISSION}
 WHERE ${where.length > 0 ? where.join(' AND ') : 'true'}
 ORDER BY j.seq LIMIT ${parameter(limit)}`;
  return { text, values };
}

export function createJobQueries({ pool, cipher }: { pool: pg.Pool; cipher: FieldCipher }) {
  return {
    /** The job; with `withIdInfo`, the ID authority's record opened (callers audit that read first). */
    async read(jobId: string, { withIdInfo }: { withIdInfo: boolean }): Promise<StoredJob | undefined> {
      const read = withIdInfo ? READ_JOB_WITH_ID_INFO : READ_JOB;
      const row = (await pool.query<Record<string, unknown>>(read.bind({ jobId }))).rows[0];
      return row && decodeJob(row, withIdInfo ? cipher : undefined);
    },

    async exists(jobId: string): Promise<boolean> {
      return (await pool.query(JOB_EXISTS.bind({ jobId }))).rowCount === 1;
    },

    /** Up to `limit` jobs in review, those waiting longest first, after `after`; and whether more follow. */
    async reviews(after: ReviewQueuePosition | undefined, limit: number) {
      const query = after
        ? REVIEW_QUEUE_AFTER.bind({ afterDecidedAt: after.decidedAt, afterSeq: after.seq, limit: limit + 1 })
        : REVIEW_QUEUE_START.bind({ limit: limit + 1 });
      const { rows } = await pool.query<Record<string, unknown>>(query);
      const jobs = rows.slice(0, limit).map((row) => ({ job: decodeJob(row), seq: row.seq as string }));
      return { jobs, more: rows.length > limit };
    },

    /** Up to `limit` jobs with their listing position (`seq`), and whether more follow. */
    async list(filters: JobFilters, afterSeq: string | undefined, limit: number) {
      const { rows } = await pool.query<Record<string, unknown>>(listJobsQuery(filters, afterSeq, limit + 1));
      const jobs = rows.slice(0, limit).map((row) => ({ job: decodeJob(row), seq: row.seq as string }));
      return { jobs, more: rows.length > limit };
    },
  };
}

export type JobQueries = ReturnType<typeof createJobQueries>;
