import { z } from 'zod';
import { benchDatabaseName, commonSettings, parseSettings } from '../shared/settings.js';

const positiveInt = z.coerce.number().int().positive();

const reconcileSchema = z.object({
  ...commonSettings,
  /** Its own database by default, so it can run beside bench:intake without dropping that one's. */
  BENCH_DATABASE: benchDatabaseName.default('smileid_bench_reconcile'),
  /** Jobs per run, split evenly between the two populations. */
  BENCH_JOBS: positiveInt.min(2).default(10_000),
  /** RECONCILE_CONCURRENCY values to try, one fresh run each, e.g. `64` or `32,64,128`. */
  BENCH_CONCURRENCIES: z
    .string()
    .regex(/^[1-9]\d*(,[1-9]\d*)*$/, 'a comma-separated list of positive whole numbers')
    .transform((value) => value.split(',').map(Number))
    .default([32, 64, 128]),
  /** Worker processes (ROLE=worker) sharing the queue. */
  BENCH_WORKERS: positiveInt.max(16).default(1),
  /** Smile ID's simulated response time. */
  BENCH_LATENCY_MS: z.coerce.number().int().nonnegative().default(50),
  /** Longest the timed window may last; a run that has not confirmed every job by then is reported as is. */
  BENCH_TIMEOUT_SECONDS: positiveInt.default(300),
});

export type ReconcileSettings = z.infer<typeof reconcileSchema>;

export function loadReconcileSettings(env: NodeJS.ProcessEnv = process.env): ReconcileSettings {
  return parseSettings(reconcileSchema, env);
}
