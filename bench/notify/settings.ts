import { z } from 'zod';
import { benchDatabaseName, commonSettings, parseSettings } from '../shared/settings.js';

const positiveInt = z.coerce.number().int().positive();

const notifySchema = z.object({
  ...commonSettings,
  /** Its own database by default, so it can run beside the other benches without dropping theirs. */
  BENCH_DATABASE: benchDatabaseName.default('smileid_bench_notify'),
  /** Changes per second to produce, one steady phase each, e.g. `50` or `50,200`. */
  BENCH_RATES: z
    .string()
    .regex(/^[1-9]\d*(,[1-9]\d*)*$/, 'a comma-separated list of positive whole numbers')
    .transform((value) => value.split(',').map(Number))
    .default([50, 200]),
  /** How long each steady phase produces changes. */
  BENCH_PHASE_SECONDS: positiveInt.default(20),
  /** Longest wait, after a phase, for its last changes to be made and delivered. */
  BENCH_DRAIN_SECONDS: positiveInt.default(30),
  /** The baseline's measured window, after a warm-up of half as long. */
  BENCH_BASELINE_SECONDS: positiveInt.default(5),
  /**
   * Changes per second of the two phases with a second endpoint: answering, then hanging until every
   * attempt times out (NOTIFY_TIMEOUT_MS); 0 leaves them out.
   */
  BENCH_HANG_RATE: z.coerce.number().int().nonnegative().default(50),
  /** Smile ID's simulated response time, for the confirmations that finalize the jobs. */
  BENCH_LATENCY_MS: z.coerce.number().int().nonnegative().default(50),
});

export type NotifySettings = z.infer<typeof notifySchema>;

export function loadNotifySettings(env: NodeJS.ProcessEnv = process.env): NotifySettings {
  return parseSettings(notifySchema, env);
}
