import type { JobModule } from '../queues/job-module.js';
import type { DecisionReplay } from './replay.js';

/** How often a worker looks for jobs the policy in force has not decided; nothing to do costs two index probes. */
export const REPLAY_INTERVAL_MS = 5000;

/**
 * Decisions' queued work: the replay of the policy in force over stored jobs decided under another
 * version, a slice at a time on the maintenance queue (which the maintenance module owns).
 */
export function decideJobs({
  replay,
  intervalMs = REPLAY_INTERVAL_MS,
}: {
  replay: DecisionReplay;
  intervalMs?: number;
}): JobModule {
  return {
    feature: 'decide',
    handlers: { replayDecisions: (_data, { log }) => replay.run(log) },
    schedules: { replayDecisions: { every: intervalMs } },
  };
}
