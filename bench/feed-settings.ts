import { z } from 'zod';
import { benchDatabaseName, commonSettings, parseSettings } from './settings.js';

const positiveInt = z.coerce.number().int().positive();

const feedSchema = z.object({
  ...commonSettings,
  /** Its own database by default, so it can run beside the other benches without dropping theirs. */
  BENCH_DATABASE: benchDatabaseName.default('smileid_bench_feed'),
  /** Consumers long-polling GET /v1/changes?wait=30, each following the feed from its end. */
  BENCH_CONSUMERS: positiveInt.default(200),
  /** Callbacks per second, each of them a change (a new job's first result). */
  BENCH_CHANGES_PER_SECOND: positiveInt.default(10),
  /** How long each phase posts callbacks. */
  BENCH_PHASE_SECONDS: positiveInt.default(30),
});

export type FeedSettings = z.infer<typeof feedSchema>;

export function loadFeedSettings(env: NodeJS.ProcessEnv = process.env): FeedSettings {
  return parseSettings(feedSchema, env);
}
