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

/**
 * How long a delivery handed to a worker is its alone: longer than an attempt can take, so it is handed
 * out again only if its worker died (or its queued job was lost with Redis).
 */
export const DELIVERY_LEASE_MS = 2 * 60_000;

/**
 * Whether an attempt's outcome says the endpoint itself is failing, rather than this one message: no
 * answer at all (a timeout, a refused connection), overload (429, 503) or a gateway that could not reach
 * it (502, 504). Such an endpoint backs off as a whole, so that it does not hold delivery slots with
 * attempts bound to fail. Any other answer shows it alive and answering.
 */
export function endpointFailing(status: number | null): boolean {
  return status === null || status === 429 || status === 502 || status === 503 || status === 504;
}
