import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import type { OutageReporter } from '../util/outages.js';
import { createRepeatedErrorLog } from '../util/repeated-errors.js';

/**
 * When each schedule last completed a run, on any worker: one Redis hash that every worker writes and
 * reads, since any worker may take a schedule's next run. Each worker also remembers the latest time it
 * has seen, so that the hash being lost with the rest of Redis does not make a stalled schedule look new.
 */
export function createScheduleRuns({
  redis,
  prefix,
  outages,
  log,
  now = Date.now,
}: {
  redis: Pick<Redis, 'hset' | 'hgetall'>;
  prefix: string;
  /** Says Redis being down; any other failure to record a run is logged here. */
  outages: Pick<OutageReporter, 'reportIfUnreachable'>;
  log: FastifyBaseLogger;
  now?: () => number;
}) {
  const key = `${prefix}:schedule-runs`;
  // Once a minute per kind: a sweep every half second would otherwise say the same thing twice a second.
  const notRecorded = createRepeatedErrorLog({
    log,
    level: 'warn',
    message:
      'could not record a schedule run in Redis; other workers may take the schedule for stalled and declare it again',
  });
  const lastRuns = new Map<string, number>();
  const remember = (name: string, at: number) => {
    if (at > (lastRuns.get(name) ?? 0)) lastRuns.set(name, at);
  };

  return {
    /**
     * A run of `name` completed now; Redis failing loses only the other workers' view of it. Resolves
     * once recorded, or once the failure is said.
     */
    async record(name: string): Promise<void> {
      const at = now();
      remember(name, at);
      try {
        await redis.hset(key, name, String(at));
      } catch (error) {
        if (!outages.reportIfUnreachable(error)) notRecorded(error, { schedule: name });
      }
    },
    /** Takes in what the other workers recorded. */
    async refresh(): Promise<void> {
      for (const [name, at] of Object.entries(await redis.hgetall(key))) {
        const millis = Number(at);
        if (Number.isSafeInteger(millis)) remember(name, millis);
      }
    },
    /** When `name` last completed, as far as this worker knows (undefined: not since it started). */
    lastRun: (name: string): number | undefined => lastRuns.get(name),
  };
}

export type ScheduleRuns = ReturnType<typeof createScheduleRuns>;
