import { z } from 'zod';
import { benchDatabaseName, commonSettings, parseSettings } from '../shared/settings.js';
import { API_SCENARIO_IDS } from './scenarios.js';

const apiSchema = z.object({
  ...commonSettings,
  BENCH_DURATION_SECONDS: z.coerce.number().positive().default(10),
  BENCH_WARMUP_SECONDS: z.coerce.number().nonnegative().default(3),
  /** Its own database by default, so it can run beside the other benches without dropping theirs. */
  BENCH_DATABASE: benchDatabaseName.default('smileid_bench_api'),
  /**
   * Runs per server and scenario, baseline and service alternating; the run with the median throughput
   * stands for each. More than one evens out a machine that other work shares.
   */
  BENCH_ROUNDS: z.coerce.number().int().min(1).max(9).default(3),
  /** Jobs seeded before the runs. */
  BENCH_JOBS: z.coerce.number().int().min(1000).default(100_000),
  /** Which scenarios to run, e.g. `read` or `read,idinfo`; `idinfo` is compared with `read`. */
  BENCH_SCENARIOS: z
    .string()
    .regex(
      new RegExp(`^(${API_SCENARIO_IDS.join('|')})(,(${API_SCENARIO_IDS.join('|')}))*$`),
      `a comma-separated list of ${API_SCENARIO_IDS.join(', ')}`,
    )
    .transform((value) => value.split(','))
    .default([...API_SCENARIO_IDS]),
});

export type ApiBenchSettings = z.infer<typeof apiSchema>;

export function loadApiBenchSettings(env: NodeJS.ProcessEnv = process.env): ApiBenchSettings {
  return parseSettings(apiSchema, env);
}
