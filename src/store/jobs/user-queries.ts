import type pg from 'pg';
import type { JobDecision } from '../../domain/decision/job-decision.js';
import type { JobState, SuspectUser } from '../../domain/facets.js';
import { statement } from '../sql.js';
import { decisionSelectList, decodeDecision } from './decision-columns.js';

/**
 * GET /v1/users/:userId: one user's verification, their newest jobs and the risk facts across all of
 * them, read from the user's jobs alone (the index on (user_id, seq)). No identity data is selected.
 */

/** Whether a job of the user is approved now, the one decided first; and the risk facts of every job. */
const USER_FACTS = statement<'userId'>(
  `
WITH mine AS (
  SELECT job_id, seq, decision, decided_at, decision_source, id_number_previously_registered,
         previous_registrant_user_ids, suspect_users
    FROM jobs WHERE user_id = :userId
)
SELECT (SELECT count(*) FROM mine)::int AS jobs,
       (SELECT jsonb_build_object('jobId', job_id, 'decidedAt', decided_at, 'source', decision_source)
          FROM mine WHERE decision = 'approve' ORDER BY decided_at, seq LIMIT 1) AS "verifiedBy",
       (SELECT bool_or(id_number_previously_registered) FROM mine) AS "idNumberPreviouslyRegistered",
       (SELECT COALESCE(array_agg(DISTINCT other ORDER BY other), '{}')
          FROM mine, unnest(previous_registrant_user_ids) AS other
         WHERE other <> :userId) AS "previousRegistrantUserIds",
       (SELECT COALESCE(jsonb_agg(suspect ORDER BY suspect->>'userId'), '[]')
          FROM (SELECT DISTINCT ON (s->>'userId') s AS suspect
                  FROM mine, jsonb_array_elements(suspect_users) AS s
                 ORDER BY s->>'userId', mine.seq DESC) AS distinct_suspects) AS "suspectUsers"`,
  'user-facts',
);

/** The user's newest jobs, newest first. */
const USER_JOBS = statement<'userId' | 'limit'>(
  `
SELECT j.job_id AS "jobId", j.job_type AS "jobType", j.state::text AS state, j.is_final AS "isFinal",
       j.confirmed, j.stale_at IS NOT NULL AS stale, j.result_code AS "resultCode",
       j.result_text AS "resultText", ${decisionSelectList('j')}, j.created_at AS "createdAt",
       j.updated_at AS "updatedAt", j.finalized_at AS "finalizedAt"
  FROM jobs j WHERE j.user_id = :userId ORDER BY j.seq DESC LIMIT :limit::integer`,
  'user-jobs',
);

export interface UserJob {
  jobId: string;
  jobType: number | null;
  state: JobState;
  isFinal: boolean;
  confirmed: boolean;
  stale: boolean;
  resultCode: string | null;
  resultText: string | null;
  decision: JobDecision;
  createdAt: Date;
  updatedAt: Date;
  finalizedAt: Date | null;
}

export interface UserOverview {
  /** Every job of the user; `recentJobs` holds the newest of them. */
  jobCount: number;
  recentJobs: UserJob[];
  /** The job approved now whose approval is the oldest: the user is verified since then. */
  verifiedBy: { jobId: string; decidedAt: Date; source: JobDecision['source'] } | null;
  /** true when any job's ID record said so, false when some said not and none said so, null when none said. */
  idNumberPreviouslyRegistered: boolean | null;
  /** The other users Smile ID named as having registered the ID number of any of the user's jobs. */
  previousRegistrantUserIds: string[];
  /** Every user Smile Secure named as a suspect on any of the user's jobs, once each. */
  suspectUsers: SuspectUser[];
}

export function createUserQueries({ pool }: { pool: pg.Pool }) {
  return {
    /** The user's overview; undefined for a user no job names. */
    async overview(userId: string, jobLimit: number): Promise<UserOverview | undefined> {
      const [facts, jobs] = await Promise.all([
        pool.query<Record<string, unknown>>(USER_FACTS.bind({ userId })),
        pool.query<Record<string, unknown>>(USER_JOBS.bind({ userId, limit: jobLimit })),
      ]);
      const row = facts.rows[0]!;
      if ((row.jobs as number) === 0) return undefined;
      const verifiedBy = row.verifiedBy as { jobId: string; decidedAt: string; source: string } | null;
      return {
        jobCount: row.jobs as number,
        recentJobs: jobs.rows.map(decodeUserJob),
        verifiedBy: verifiedBy && {
          jobId: verifiedBy.jobId,
          decidedAt: new Date(verifiedBy.decidedAt),
          source: verifiedBy.source as JobDecision['source'],
        },
        idNumberPreviouslyRegistered: row.idNumberPreviouslyRegistered as boolean | null,
        previousRegistrantUserIds: row.previousRegistrantUserIds as string[],
        suspectUsers: row.suspectUsers as SuspectUser[],
      };
    },
  };
}

function decodeUserJob(row: Record<string, unknown>): UserJob {
  return {
    jobId: row.jobId as string,
    jobType: row.jobType as number | null,
    state: row.state as JobState,
    isFinal: row.isFinal as boolean,
    confirmed: row.confirmed as boolean,
    stale: row.stale as boolean,
    resultCode: row.resultCode as string | null,
    resultText: row.resultText as string | null,
    decision: decodeDecision(row),
    createdAt: row.createdAt as Date,
    updatedAt: row.updatedAt as Date,
    finalizedAt: row.finalizedAt as Date | null,
  };
}

export type UserQueries = ReturnType<typeof createUserQueries>;
