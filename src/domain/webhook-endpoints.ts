/**
 * When a webhook endpoint counts as retired. Every worker's notification sweep marks the endpoints in
 * its own NOTIFY_WEBHOOK_URLS as configured, every half second; an endpoint that no worker has marked
 * for this long is retired: nothing is sent to it and what waits for it is no backlog. Derived from
 * that mark rather than set by any one worker, so that workers of a rolling deploy with different lists
 * do not retire and revive an endpoint in turn: only once the last worker listing it has gone does it
 * retire.
 */
export const ENDPOINT_RETIRED_AFTER_MS = 15 * 60_000;

/** Endpoints last marked configured before this instant are retired at `now`. */
export function retiredBefore(now: Date): Date {
  return new Date(now.getTime() - ENDPOINT_RETIRED_AFTER_MS);
}
