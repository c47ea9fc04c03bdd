import type pg from 'pg';
import { statement } from './sql.js';

/** Jobs per state and finality, with the flags dashboards count. */
const JOB_GAUGES = statement(
  `
SELECT state::text AS state, is_final AS "isFinal", count(*)::int AS jobs,
       count(*) FILTER (WHERE is_final AND NOT confirmed)::int AS unconfirmed,
       count(*) FILTER (WHERE needs_confirmation)::int AS untrusted,
       count(*) FILTER (WHERE stale_at IS NOT NULL)::int AS stale,
       count(*) FILTER (WHERE id_number_previously_registered)::int AS "previouslyRegistered",
       count(*) FILTER (WHERE jsonb_array_length(suspect_users) > 0)::int AS "fraudSuspects"
  FROM jobs GROUP BY state, is_final`,
  'job-gauges',
);

/** Submissions per status, and how long the oldest still pending has waited. */
const SUBMISSION_GAUGES = statement(
  `
SELECT status::text AS status, count(*)::int AS submissions,
       COALESCE(extract(epoch FROM now() - min(created_at)), 0)::float8 AS "oldestSeconds"
  FROM submissions GROUP BY status`,
  'submission-gauges',
);

export interface SubmissionGaugeRow {
  status: 'queued' | 'uploading' | 'uploaded' | 'failed';
  submissions: number;
  oldestSeconds: number;
}

export interface JobGaugeRow {
  state: string;
  isFinal: boolean;
  jobs: number;
  unconfirmed: number;
  untrusted: number;
  stale: number;
  previouslyRegistered: number;
  fraudSuspects: number;
}

/** The reads /metrics makes of Postgres. */
export function createGaugeQueries({ pool }: { pool: pg.Pool }) {
  return {
    async jobCounts(): Promise<JobGaugeRow[]> {
      return (await pool.query<JobGaugeRow>(JOB_GAUGES.bind({}))).rows;
    },
    async submissionCounts(): Promise<SubmissionGaugeRow[]> {
      return (await pool.query<SubmissionGaugeRow>(SUBMISSION_GAUGES.bind({}))).rows;
    },
    /** Postgres answers at all: readiness. */
    async ping(): Promise<void> {
      await pool.query('SELECT 1');
    },
  };
}

export type GaugeQueries = ReturnType<typeof createGaugeQueries>;
