import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { z } from 'zod';
import { createFieldCipher, parseKeyring } from '../../src/security/field-cipher.js';
import { createDatabase, postgresOutages } from '../../src/store/connections.js';
import { createGaugeQueries } from '../../src/store/jobs/job-gauges.js';
import { createJobQueries } from '../../src/store/jobs/job-queries.js';
import { createUserQueries } from '../../src/store/jobs/user-queries.js';
import { migrate } from '../../src/store/migrate.js';
import { databaseUrl, dropBenchDatabase, recreateBenchDatabase, withClient } from '../shared/database.js';
import {
  BENCH_DATA_ENCRYPTION_KEYS,
  benchDatabaseName,
  commonSettings,
  parseSettings,
} from '../shared/settings.js';

/**
 * `npm run bench:reviews`: what the review queue and a user's overview cost on a large `jobs` table in
 * which few jobs wait for a person, against one job read by id (the API's cheapest read) in the same run:
 * a page of GET /v1/reviews at its start and deep in it, the review gauges every scrape reads, and
 * GET /v1/users/:userId. Each is timed with the partial index on (decided_at, seq) of the jobs in review,
 * and the queue's reads again without it, which is why the index is there.
 */
const settings = parseSettings(
  z.object({
    ...commonSettings,
    BENCH_DATABASE: benchDatabaseName.default('smileid_bench_reviews'),
    BENCH_JOBS: z.coerce.number().int().positive().default(200_000),
    /** One job in this many waits for a person. */
    BENCH_REVIEW_EVERY: z.coerce.number().int().positive().default(100),
    /** Jobs per user. */
    BENCH_JOBS_PER_USER: z.coerce.number().int().positive().default(4),
    BENCH_CALLS: z.coerce.number().int().positive().default(400),
    BENCH_ROUNDS: z.coerce.number().int().positive().default(5),
  }),
  process.env,
);

const url = databaseUrl(settings.BENCH_POSTGRES_URL, settings.BENCH_DATABASE);
await recreateBenchDatabase(settings.BENCH_POSTGRES_URL, settings.BENCH_DATABASE);
await migrate(url, pino({ level: 'warn' }));
await withClient(url, async (client) => {
  await client.query(
    `INSERT INTO jobs (job_id, user_id, state, is_final, confirmed, result_code, result_text, actions, tracked,
                       id_number_previously_registered, previous_registrant_user_ids, suspect_users,
                       decision, decision_reasons, decision_rule, decision_policy_version, decided_at,
                       created_at, updated_at, version)
     SELECT 'job-' || n, 'user-' || (n / $3::int), 'approved', true, true, '1210', 'Enroll User',
            '{"Liveness_Check": "Passed"}', true, n % $2::int = 0,
            CASE WHEN n % $2::int = 0 THEN ARRAY['user-before'] ELSE '{}' END, '[]',
            CASE WHEN n % $2::int = 0 THEN 'review' ELSE 'approve' END::job_decision,
            CASE WHEN n % $2::int = 0 THEN ARRAY['previously_registered_by_others'] ELSE ARRAY['approved'] END,
            CASE WHEN n % $2::int = 0 THEN 'previously_registered_by_others' ELSE 'approved' END,
            'smile-id-default@000000000000', now() - make_interval(secs => $1::int - n), now(), now(), 1
       FROM generate_series(1, $1::int) AS n`,
    [settings.BENCH_JOBS, settings.BENCH_REVIEW_EVERY, settings.BENCH_JOBS_PER_USER],
  );
  await client.query('ANALYZE jobs');
});

const db = createDatabase({ url, poolSize: 4, timeoutMs: 30_000, outages: postgresOutages(url, pino()) });
const cipher = createFieldCipher(parseKeyring([BENCH_DATA_ENCRYPTION_KEYS]));
const jobs = createJobQueries({ pool: db.pool, cipher });
const gauges = createGaugeQueries({ pool: db.pool });
const users = createUserQueries({ pool: db.pool });
const inReview = Math.floor(settings.BENCH_JOBS / settings.BENCH_REVIEW_EVERY);
const middle = await jobs.reviews(undefined, Math.floor(inReview / 2));
const deep = { decidedAt: middle.jobs.at(-1)!.job.decision.decidedAt, seq: middle.jobs.at(-1)!.seq };

let call = 0;
const calls: Record<string, () => Promise<unknown>> = {
  'one job by id (baseline)': () =>
    jobs.read(`job-${(call % settings.BENCH_JOBS) + 1}`, { withIdInfo: false }),
  'GET /v1/reviews, first page of 50': () => jobs.reviews(undefined, 50),
  'GET /v1/reviews, a page halfway': () => jobs.reviews(deep, 50),
  'review gauges (each scrape)': () => gauges.reviewQueue(),
  'GET /v1/users/:userId': () =>
    users.overview(`user-${call % Math.floor(settings.BENCH_JOBS / settings.BENCH_JOBS_PER_USER)}`, 100),
};

/** Median milliseconds per call, one call at a time. */
async function measure(run: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let round = 0; round < settings.BENCH_ROUNDS; round += 1) {
    const started = performance.now();
    for (let index = 0; index < settings.BENCH_CALLS; index += 1) {
      call += 1;
      await run();
    }
    times.push((performance.now() - started) / settings.BENCH_CALLS);
  }
  return [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

async function measureAll(names: readonly string[]): Promise<Map<string, number>> {
  for (const name of names) await calls[name]!(); // warm-up: plans, prepared statements
  const figures = new Map<string, number>();
  for (const name of names) figures.set(name, await measure(calls[name]!));
  return figures;
}

const row = (name: string, ms: number, baseline: number, extra = '') =>
  `  ${name.padEnd(36)} ${ms.toFixed(3).padStart(8)} ms  ${(ms / baseline).toFixed(1).padStart(6)} × the baseline${extra}`;

try {
  const withIndex = await measureAll(Object.keys(calls));
  const baseline = withIndex.get('one job by id (baseline)')!;
  console.log(
    `${settings.BENCH_JOBS} jobs, ${inReview} in review, ${settings.BENCH_JOBS_PER_USER} per user; ` +
      `median ms per call of ${settings.BENCH_ROUNDS} rounds of ${settings.BENCH_CALLS}, one at a time:`,
  );
  for (const [name, ms] of withIndex) console.log(row(name, ms, baseline));

  await db.pool.query('DROP INDEX jobs_review_queue_idx');
  await db.pool.query('ANALYZE jobs');
  // A new pool: prepared statements planned with the index are not reused without it.
  await db.close();
  const bare = createDatabase({ url, poolSize: 4, timeoutMs: 30_000, outages: postgresOutages(url, pino()) });
  Object.assign(jobs, createJobQueries({ pool: bare.pool, cipher }));
  Object.assign(gauges, createGaugeQueries({ pool: bare.pool }));
  const queueReads = ['GET /v1/reviews, first page of 50', 'GET /v1/reviews, a page halfway'];
  const without = await measureAll([...queueReads, 'review gauges (each scrape)']);
  console.log('without the partial index jobs_review_queue_idx:');
  for (const [name, ms] of without) {
    console.log(row(name, ms, baseline, `   (${(ms / withIndex.get(name)!).toFixed(1)} × with it)`));
  }
  await bare.close();
} finally {
  await db.close().catch(() => undefined);
  await dropBenchDatabase(settings.BENCH_POSTGRES_URL, settings.BENCH_DATABASE);
}
