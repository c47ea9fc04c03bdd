import { z } from 'zod';
import { benchDatabaseName, commonSettings, parseSettings } from '../shared/settings.js';

const positiveInt = z.coerce.number().int().positive();

const feedSchema = z.object({
  ...commonSettings,
  /** Its own database by default, so it can run beside the other benches without dropping theirs. */
  BENCH_DATABASE: benchDatabaseName.default('smileid_bench_feed'),
  /** Consumers long-polling GET /v1/changes?wait=30, each following the feed from its end. */
  BENCH_CONSUMERS: positiveInt.default(200),
  /** Callbacks per second, each of them a change (a new job's first result). */
  BENCH_CHANGES_PER_SECOND: positiveInt.default(10),
  /**
   * Scheduling priority of the consumers' process (0–19, `nice`). In production consumers run on other
   * machines; here they share its CPUs with the service, and at equal priority their own work would be
   * what slows the callbacks. 0 measures them as equals.
   */
  BENCH_CONSUMERS_NICE: z.coerce.number().int().min(0).max(19).default(10),
  /** How long each phase posts callbacks. */
  BENCH_PHASE_SECONDS: positiveInt.default(30),
});

export type FeedSettings = z.infer<typeof feedSchema>;

export function loadFeedSettings(env: NodeJS.ProcessEnv = process.env): FeedSettings {
  return parseSettings(feedSchema, env);
}
