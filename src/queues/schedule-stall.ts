/**
 * When a schedule counts as stalled: the timing rule of the schedule keeper (schedule-keeper.ts), apart
 * from Redis and clocks so that it can be read and tested on its own. Times are in milliseconds.
 */

/** A schedule that has not completed for this many of its intervals is stalled… */
export const STALL_INTERVALS = 3;
/** …and for at least this long: one slow run of a sweep every 500 ms is not a stall. */
export const MIN_STALL_MS = 60_000;

/** How long a schedule run every `every` ms may go without completing before it is stalled. */
export function stallAfterMs(every: number, minStallMs = MIN_STALL_MS): number {
  return Math.max(STALL_INTERVALS * every, minStallMs);
}

/**
 * Since the schedule last completed on any worker, or since this worker started if that is later: a
 * worker that has just started gives every schedule its full time before calling it stalled.
 */
export function sinceRunMs({
  lastRunAt,
  startedAt,
  now,
}: {
  lastRunAt: number | undefined;
  startedAt: number;
  now: number;
}): number {
  return now - Math.max(lastRunAt ?? 0, startedAt);
}

/**
 * Whether a schedule that exists in Redis should be declared again: it is stalled, and it was not
 * declared again for a stall's length already (at most once per stall, so that a run that keeps
 * failing is not declared again on every look).
 */
export function redeclareStalled({
  sinceRun,
  stallAfter,
  redeclaredAt,
  now,
}: {
  sinceRun: number;
  stallAfter: number;
  redeclaredAt: number | undefined;
  now: number;
}): boolean {
  return sinceRun > stallAfter && now - (redeclaredAt ?? 0) > stallAfter;
}
