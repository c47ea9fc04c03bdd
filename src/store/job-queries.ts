import type pg from 'pg';
import type { JobState } from '../domain/facets.js';
import { JOB_SELECT_LIST, type JobRecord } from './job-record.js';

/**
 * The API's reads of `jobs`, in plain SQL on the shared pool (the same mapping as the write path's
 * JOB_SELECT_LIST). Identity data is selected only by the read that asked for it.
 */

/** The fields presentJob shows. Every other field of a JobRecord is selected as NULL: never sent, never parsed. */
const PRESENTED_FIELDS: ReadonlySet<keyof JobRecord> = new Set<keyof JobRecord>([
  'jobId',
  'userId',
  'jobType',
  'smileJobId',
  'smileJobIds',
  'state',
  'isFinal',
  'confirmed',
  'needsConfirmation',
  'identitySource',
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
  'createdAt',
  'updatedAt',
  'finalizedAt',
]);

/** JOB_SELECT_LIST (`j.column AS "field", …`) with the fields not presented, identity data first, as NULL. */
const SUMMARY_SELECT_LIST = JOB_SELECT_LIST.split(', ')
  .map((item) => {
    const field = /AS "(\w+)"$/.exec(item)?.[1];
    if (!field) throw new Error(`unexpected JOB_SELECT_LIST item: ${item}`);
    return PRESENTED_FIELDS.has(field as keyof JobRecord) ? item : `NULL AS "${field}"`;
  })
  .join(', ');

export const READ_JOB_SQL = `SELECT ${SUMMARY_SELECT_LIST} FROM jobs j WHERE j.job_id = $1`;
export const READ_JOB_WITH_ID_INFO_SQL = `SELECT ${JOB_SELECT_LIST} FROM jobs j WHERE j.job_id = $1`;

export interface JobFilters {
  states?: JobState[] | undefined;
  userId?: string | undefined;
  isFinal?: boolean | undefined;
  updatedSince?: Date | undefined;
  /** null: unknown (no ID record said). */
  idNumberPreviouslyRegistered?: boolean | null | undefined;
  stale?: boolean | undefined;
}

export type ListedJob = JobRecord & { seq: string };

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
  const { states, userId, isFinal, updatedSince, idNumberPreviouslyRegistered, stale } = filters;
  if (states?.length === 1) where.push(`j.state = ${parameter(states[0])}::job_state`);
  else if (states) where.push(`j.state = ANY(${parameter(states)}::job_state[])`);
  if (userId !== undefined) where.push(`j.user_id = ${parameter(userId)}`);
  if (isFinal !== undefined) where.push(`j.is_final = ${parameter(isFinal)}`);
  if (updatedSince !== undefined) where.push(`j.updated_at >= ${parameter(updatedSince)}`);
  // The response shows a job never checked for earlier registrations (null) as false.
  if (idNumberPreviouslyRegistered === true) where.push('j.id_number_previously_registered = true');
  if (idNumberPreviouslyRegistered === false) where.push('j.id_number_previously_registered = false');
  if (idNumberPreviouslyRegistered === null) where.push('j.id_number_previously_registered IS NULL');
  if (stale !== undefined) where.push(`j.stale_at IS ${stale ? 'NOT NULL' : 'NULL'}`);
  if (afterSeq !== undefined) where.push(`j.seq > ${parameter(afterSeq)}::bigint`);
  const text = `SELECT ${SUMMARY_SELECT_LIST}, j.seq::text AS "seq" FROM jobs j
 WHERE ${where.length > 0 ? where.join(' AND ') : 'true'}
 ORDER BY j.seq LIMIT ${parameter(limit)}`;
  return { text, values };
}

export function createJobQueries({ pool }: { pool: pg.Pool }) {
  return {
    async read(jobId: string, { withIdInfo }: { withIdInfo: boolean }): Promise<JobRecord | undefined> {
      const sql = withIdInfo ? READ_JOB_WITH_ID_INFO_SQL : READ_JOB_SQL;
      return (await pool.query<JobRecord>(sql, [jobId])).rows[0];
    },

    async exists(jobId: string): Promise<boolean> {
      return (await pool.query('SELECT 1 FROM jobs WHERE job_id = $1', [jobId])).rowCount === 1;
    },

    /** Up to `limit` jobs, and whether more follow. */
    async list(filters: JobFilters, afterSeq: string | undefined, limit: number) {
      const { rows } = await pool.query<ListedJob>(listJobsQuery(filters, afterSeq, limit + 1));
      return { jobs: rows.slice(0, limit), more: rows.length > limit };
    },
  };
}

export type JobQueries = ReturnType<typeof createJobQueries>;
