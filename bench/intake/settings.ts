import { z } from 'zod';
import { benchDatabaseName, commonSettings, parseSettings } from '../shared/settings.js';

const intakeSchema = z.object({
  ...commonSettings,
  BENCH_DURATION_SECONDS: z.coerce.number().positive().default(10),
  BENCH_WARMUP_SECONDS: z.coerce.number().nonnegative().default(3),
  BENCH_DATABASE: benchDatabaseName.default('smileid_bench'),
  /** Which scenarios to run, e.g. `a` or `b,c`. */
  BENCH_SCENARIOS: z
    .string()
    .regex(/^[abc](,[abc])*$/, 'a comma-separated list of a, b and c')
    .transform((value) => value.split(','))
    .default(['a', 'b', 'c']),
});

export type IntakeSettings = z.infer<typeof intakeSchema>;

export function loadIntakeSettings(env: NodeJS.ProcessEnv = process.env): IntakeSettings {
  return parseSettings(intakeSchema, env);
}
