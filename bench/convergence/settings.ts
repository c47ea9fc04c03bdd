import { parseArgs } from 'node:util';
import { z } from 'zod';
import { benchDatabaseName, commonSettings, parseSettings } from '../shared/settings.js';

const positiveInt = z.coerce.number().int().positive();

/** `--quick`: enough jobs to see every life and a few forgeries, in about a minute. */
export const QUICK_JOBS = 200;

const convergenceSchema = z.object({
  ...commonSettings,
  BENCH_DATABASE: benchDatabaseName.default('smileid_bench_convergence'),
  BENCH_JOBS: positiveInt.default(2000),
  /**
   * Jobs started per second. With the default Smile ID budget (20 job_status calls/s), the default
   * leaves room for a few calls per job; far above it, the figures measure a backlog, not convergence.
   */
  BENCH_JOBS_PER_SECOND: z.coerce.number().positive().default(10),
  /**
   * The poll model (docs/design.md#the-polling-model) compressed as the traffic is: results within
   * ~10 s of registration (30 s in the real model's world of 3–20 s), review 10–40 s (minutes to
   * hours), so the first fallback check of a job in review after 40 s (30 minutes), at most 2 minutes
   * apart (6 hours).
   */
  BENCH_POLL_SILENT_FIRST_MS: positiveInt.default(12_000),
  BENCH_POLL_REVIEW_FIRST_MS: positiveInt.default(40_000),
  BENCH_POLL_MAX_INTERVAL_MS: positiveInt.default(120_000),
  /** How long after the last job's final result the bench still waits for every job to converge. */
  BENCH_GRACE_SECONDS: positiveInt.default(120),
  /** Smile ID's simulated response time. */
  BENCH_LATENCY_MS: z.coerce.number().int().nonnegative().default(50),
  /** Seeds the plan (lives, losses, duplicates, forgeries), so two runs face the same traffic. */
  BENCH_SEED: z.coerce.number().int().default(1),
});

export type ConvergenceSettings = z.infer<typeof convergenceSchema>;

/** Environment first; `--jobs N` and `--quick` on the command line win over BENCH_JOBS. */
export function loadConvergenceSettings(
  argv: string[] = process.argv.slice(2),
  env: NodeJS.ProcessEnv = process.env,
): ConvergenceSettings {
  const { values } = parseArgs({
    args: argv,
    options: { jobs: { type: 'string' }, quick: { type: 'boolean' } },
  });
  const jobs = values.jobs ?? (values.quick ? String(QUICK_JOBS) : env.BENCH_JOBS);
  return parseSettings(convergenceSchema, { ...env, ...(jobs === undefined ? {} : { BENCH_JOBS: jobs }) });
}
