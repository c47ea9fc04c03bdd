import pg from 'pg';
import { pino } from 'pino';
import type { IdInfo } from '../../src/domain/facets.js';
import { emptyOutcome } from '../../src/domain/outcome.js';
import { createFieldCipher, parseKeyring } from '../../src/security/field-cipher.js';
import { simulatedJob } from '../../src/simulator/callbacks.js';
import { encodeOutcome, OUTCOME_COLUMNS } from '../../src/store/jobs/job-table.js';
import { migrate } from '../../src/store/migrate.js';
import { BENCH_DATA_ENCRYPTION_KEYS } from '../shared/settings.js';
import { BENCH_JOB_ID_SQL, benchJobId, hasIdInfo, STATE_BANDS, userCount } from './jobs.js';

const ID_INFO_BATCH = 5000;

const bands = STATE_BANDS.map(
  (band) =>
    `(${band.below}, '${band.state}', ${band.final}, ${band.code ? `'${band.code}'` : 'NULL'}, ` +
    `${band.text ? `'${band.text}'` : 'NULL'})`,
).join(', ');

/**
 * Every job but its identity data in one INSERT … SELECT over generate_series: states, result codes and
 * actions by band, about five jobs per user, one job in 50 with identity data whose ID number was seen
 * before, a few stale pending ones, and creation times spread over the weeks before now.
 */
const INSERT_JOBS_SQL = `
INSERT INTO jobs (job_id, user_id, job_type, smile_job_id, smile_job_ids, state, is_final, confirmed, result_code,
                  result_text, actions, id_number_previously_registered, previous_registrant_user_ids,
                  event_count, version, created_at, updated_at, finalized_at, last_event_at, registered_at,
                  id_type, country, next_check_at, check_count, stale_at)
SELECT ${BENCH_JOB_ID_SQL('n')}, 'bench-user-' || (n % $2), 1, lpad(n::text, 10, '0'), ARRAY[lpad(n::text, 10, '0')],
       band.state::job_state, band.final, band.final AND n % 3 <> 0, band.code, band.text,
       CASE WHEN band.code IS NOT NULL
            THEN '{"Liveness_Check":"Passed","Selfie_To_ID_Authority_Compare":"Completed","Verify_ID_Number":"Verified"}'::jsonb
       END,
       CASE WHEN n % 100 < 70 THEN n % 50 = 0 END,
       CASE WHEN n % 100 < 70 AND n % 50 = 0 THEN ARRAY['bench-user-earlier'] ELSE ARRAY[]::text[] END,
       CASE WHEN band.code IS NULL THEN 0 ELSE 3 END, 3, at, at + interval '4 minutes',
       CASE WHEN band.final THEN at + interval '3 minutes' END, at + interval '4 minutes', at, 'NIN', 'NG',
       CASE WHEN NOT band.final THEN now() + interval '1 hour' END, 1,
       CASE WHEN band.state = 'pending' AND n % 1000 = 95 THEN at + interval '7 days' END
  FROM generate_series(1, $1::int) AS n
 CROSS JOIN LATERAL (SELECT now() - (($1::int - n) * interval '20 seconds') AS at) AS created
 CROSS JOIN LATERAL (SELECT * FROM (VALUES ${bands}) AS bands(below, state, final, code, text)
                      WHERE n % 100 < bands.below ORDER BY bands.below LIMIT 1) AS band`;

const { name: ID_INFO_COLUMN, type: ID_INFO_TYPE } = OUTCOME_COLUMNS.idInfo;
const SET_ID_INFO_SQL = `
UPDATE jobs j SET ${ID_INFO_COLUMN} = v.value
  FROM unnest($1::text[], $2::${ID_INFO_TYPE}[]) AS v(job_id, value)
 WHERE j.job_id = v.job_id`;

function idInfoOf(jobId: string): IdInfo {
  const job = simulatedJob({ jobId });
  return {
    country: job.country,
    idType: job.idType,
    idNumber: job.idNumber,
    fullName: job.fullName,
    dob: job.dob,
    gender: 'F',
    phoneNumber: job.phoneNumber,
    expirationDate: 'Not Available',
    fullData: {
      firstname: job.fullName.split(' ')[0],
      surname: job.fullName.split(' ')[1],
      nin: job.idNumber,
    },
    photoProvided: true,
    documentProvided: false,
  };
}

/**
 * Migrates the (empty) bench database and seeds `jobs` jobs. Identity data goes through the service's
 * own write path (encodeOutcome with the service's cipher), so it is stored exactly as the service
 * stores it; the rest is one statement. Returns how long seeding took.
 */
export async function seedJobs(url: string, jobs: number): Promise<{ seconds: number; withIdInfo: number }> {
  const started = Date.now();
  await migrate(url, pino({ level: 'warn' }));
  const cipher = createFieldCipher(parseKeyring([BENCH_DATA_ENCRYPTION_KEYS]));
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  try {
    await pool.query(INSERT_JOBS_SQL, [jobs, userCount(jobs)]);
    const numbers = Array.from({ length: jobs }, (_, index) => index + 1).filter(hasIdInfo);
    for (let start = 0; start < numbers.length; start += ID_INFO_BATCH) {
      const jobIds = numbers.slice(start, start + ID_INFO_BATCH).map(benchJobId);
      const values = jobIds.map(
        (jobId) => encodeOutcome({ ...emptyOutcome(jobId), idInfo: idInfoOf(jobId) }, cipher).idInfo,
      );
      await pool.query(SET_ID_INFO_SQL, [jobIds, values]);
    }
    // Leaves no dead rows from the updates above, and gives the planner this table's real statistics.
    await pool.query('VACUUM (ANALYZE) jobs');
    await pool.query('CHECKPOINT');
    return { seconds: (Date.now() - started) / 1000, withIdInfo: numbers.length };
  } finally {
    await pool.end();
  }
}
