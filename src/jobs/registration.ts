import type pg from 'pg';

export interface JobRegistration {
  jobId: string;
  userId: string;
  jobType?: number | undefined;
  idType?: string | undefined;
  country?: string | undefined;
}

export type RegistrationResult = 'created' | 'existing' | 'conflict';

/** Creates the job as pending, with the transition that starts its history. */
const CREATE_SQL = `
WITH job AS (
  INSERT INTO jobs (job_id, user_id, job_type, id_type, country, registered_at, created_at, updated_at, next_check_at, version)
  VALUES ($1, $2, $3, $4, $5, $6, $6, $6, $7, 1)
  ON CONFLICT (job_id) DO NOTHING
  RETURNING job_id, state, is_final
)
INSERT INTO job_transitions (job_id, from_state, to_state, from_final, to_final, at)
SELECT job_id, NULL, state, NULL, is_final, $6 FROM job
RETURNING job_id`;

/** Fills what the registration knows and the callbacks did not say; never overwrites. */
const ADOPT_SQL = `
UPDATE jobs SET registered_at = COALESCE(registered_at, $3), job_type = COALESCE(job_type, $4),
       id_type = COALESCE(id_type, $5), country = COALESCE(country, $6),
       user_id = COALESCE(user_id, $2), version = version + 1, updated_at = $3
 WHERE job_id = $1 AND (user_id IS NULL OR user_id = $2)
RETURNING job_id`;

/**
 * Registers a job we expect callbacks for, so that it is reconciled even if none ever arrives.
 * Registering again is harmless; registering a known job id for another user is a conflict.
 */
export function createRegistrations({ pool }: { pool: pg.Pool }) {
  async function register(
    registration: JobRegistration,
    now: Date,
    firstCheckAt: Date,
  ): Promise<RegistrationResult> {
    const { jobId, userId, jobType = null, idType = null, country = null } = registration;
    const created = await pool.query(CREATE_SQL, [
      jobId,
      userId,
      jobType,
      idType,
      country,
      now,
      firstCheckAt,
    ]);
    if (created.rowCount === 1) return 'created';
    const adopted = await pool.query(ADOPT_SQL, [jobId, userId, now, jobType, idType, country]);
    return adopted.rowCount === 1 ? 'existing' : 'conflict';
  }

  /** Makes the job due now; false when there is no such job. */
  async function requestCheck(jobId: string, now: Date): Promise<boolean> {
    const { rowCount } = await pool.query('UPDATE jobs SET next_check_at = $2 WHERE job_id = $1', [
      jobId,
      now,
    ]);
    return rowCount === 1;
  }

  return { register, requestCheck };
}

export type Registrations = ReturnType<typeof createRegistrations>;
