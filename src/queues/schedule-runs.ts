import type { Redis } from 'ioredis';

/**
 * When each schedule last completed a run, on any worker: one Redis hash that every worker writes and
 * reads, since any worker may take a schedule's next run. Each worker also remembers the latest time it
 * has seen, so that the hash being lost with the rest of Redis does not make a stalled schedule look new.
 */
export function createScheduleRuns({
  redis,
  prefix,
  now = Date.now,
}: {
  redis: Pick<Redis, 'hset' | 'hgetall'>;
  prefix: string;
  now?: () => number;
}) {
  const key = `${prefix}:schedule-runs`;
  const lastRuns = new Map<string, number>();
  const remember = (name: string, at: number) => {
    if (at > (lastRuns.get(name) ?? 0)) lastRuns.set(name, at);
  };

  return {
    /** A run of `name` completed now; Redis being unavailable loses only the other workers' view of it. */
    record(name: string): void {
      const at = now();
      remember(name, at);
      redis.hset(key, name, String(at)).catch(() => undefined);
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
