import type { FastifyBaseLogger } from 'fastify';
import { DELIVERY_LEASE_MS, endpointFailing } from '../domain/webhook-endpoints.js';
import type { Metrics } from '../observability/metrics.js';
import type { EndpointVerdict } from '../store/webhooks/attempts.js';
import type { StoredDelivery } from '../store/webhooks/deliveries.js';
import type { WebhookStore } from '../store/webhooks/webhook-store.js';
import { type AttemptResult, attemptDelivery } from './attempt.js';
import { signedHeaders } from './signing.js';

/**
 * The delivery flow for one webhook message: send it, then record what became of it. Retries are
 * scheduled in Postgres (exponential, capped at an hour, or later if a 429 or 503 asked so with
 * Retry-After) until the retry window ends, then the message is dead-lettered. An endpoint that gives
 * no answer or says it is overloaded backs off as a whole, the same way. A 410 Gone disables the
 * endpoint instead: it has said it wants nothing more.
 *
 * A queued delivery, once recorded, is followed by its endpoint's next due one, in the lease it gave
 * back, within the same queued job (for up to CHAIN_BUDGET_MS, then queued): each of an endpoint's
 * deliveries in flight goes on with the next without waiting for a sweep or a trip through the queue,
 * and the endpoint never takes more than its share.
 */

export type DeliveryOutcome = 'delivered' | 'retry' | 'dead' | 'gone' | 'skipped';

/** The retry cap: no wait is longer, whatever a Retry-After asks. */
const MAX_RETRY_DELAY_MS = 3_600_000;
/** An endpoint no longer configured keeps its messages: they wait for it to come back. */
const UNCONFIGURED_RETRY_MS = 3_600_000;
/** How long one queued job goes on with its endpoint's next deliveries before it queues the rest. */
const CHAIN_BUDGET_MS = 2000;

export function retryDelayMs(attempts: number, baseMs: number): number {
  const exponential = Math.min(MAX_RETRY_DELAY_MS, baseMs * 2 ** Math.max(0, attempts - 1));
  // Up to 10% more, so deliveries that failed together do not retry together.
  return Math.round(exponential * (1 + Math.random() * 0.1));
}

/** The wait before the next attempt: the backoff, or longer if the receiver asked so; never past the cap. */
function waitMs(failures: number, baseMs: number, askedMs: number | null): number {
  return Math.max(retryDelayMs(failures, baseMs), Math.min(MAX_RETRY_DELAY_MS, askedMs ?? 0));
}

export function createDelivery({
  store,
  secrets,
  timeoutMs,
  retryDelayMs: baseDelayMs,
  retryWindowMs,
  perEndpoint,
  enqueue,
  log,
  now = () => new Date(),
  fetch: send = fetch,
  metrics,
}: {
  store: WebhookStore;
  /** The secrets of each configured URL (several joined by `|`). */
  secrets: ReadonlyMap<string, string>;
  timeoutMs: number;
  retryDelayMs: number;
  retryWindowMs: number;
  /** Deliveries of one endpoint in flight at once (NOTIFY_CONCURRENCY). */
  perEndpoint: number;
  /** Queues deliveries at once: the endpoint's next one, when this job has gone on long enough. */
  enqueue: (deliveryIds: readonly string[]) => Promise<void>;
  log: FastifyBaseLogger;
  now?: () => Date;
  fetch?: typeof fetch;
  metrics?: Metrics | undefined;
}) {
  /**
   * Runs a queued delivery, then, while its endpoint has one due and the budget lasts, the next. Answers
   * what became of the queued one. `checkpoint` records in the queued job which delivery it is on, so
   * that a worker taking the job over after this one died resends that one rather than waiting out its
   * lease. `jobLog`: the queued job's logger, naming it.
   */
  async function run(
    deliveryId: string,
    checkpoint: (deliveryId: string) => Promise<void> = async () => undefined,
    jobLog: FastifyBaseLogger = log,
  ): Promise<DeliveryOutcome> {
    const startedAt = performance.now();
    const queued = await store.load(deliveryId);
    if (!queued) return 'skipped';
    const outcome = await attempt(queued, jobLog);
    let [current, result] = [queued, outcome];
    while (result !== 'skipped') {
      const next = await claimNext(current.endpointId, jobLog);
      if (!next) break;
      if (performance.now() - startedAt >= CHAIN_BUDGET_MS) {
        await enqueue([next.id]).catch((error: unknown) =>
          jobLog.warn(
            { err: error, deliveryId: next.id },
            'could not queue a delivery; the sweep will once its lease lapses',
          ),
        );
        break;
      }
      await checkpoint(next.id).catch((error: unknown) =>
        jobLog.warn({ err: error, deliveryId: next.id }, 'could not note the delivery in its queued job'),
      );
      [current, result] = [next, await attempt(next, jobLog)];
    }
    return outcome;
  }

  /** Sends one delivery and records what became of it. */
  async function attempt(delivery: StoredDelivery, jobLog: FastifyBaseLogger): Promise<DeliveryOutcome> {
    const deliveryId = delivery.id;
    if (delivery.status !== 'pending' || delivery.endpointDisabled) return 'skipped';
    const secret = secrets.get(delivery.url);
    if (secret === undefined) {
      await store.postpone(deliveryId, new Date(now().getTime() + UNCONFIGURED_RETRY_MS));
      return 'skipped';
    }
    // The endpoint began backing off while this delivery waited in the queue: its turn comes after.
    const backoffUntil = delivery.endpointBackoffUntil;
    if (backoffUntil && backoffUntil > now()) {
      await store.postpone(deliveryId, backoffUntil);
      return 'skipped';
    }
    const started = now();
    const answer = await attemptDelivery({
      send,
      url: delivery.url,
      payload: delivery.payload,
      headers: {
        'content-type': 'application/json',
        ...signedHeaders(secret, delivery.messageId, delivery.payload, started),
      },
      timeoutMs,
      now,
    });
    const at = now();
    const endpoint = String(delivery.endpointId);
    if (answer.ok) {
      if (!(await store.markDelivered(deliveryId, at, answer.status ?? 200))) return 'skipped';
      metrics?.webhookDeliveries.inc({ endpoint, result: 'delivered' });
      metrics?.webhookLatency.observe(Math.max(0, (at.getTime() - delivery.changedAt.getTime()) / 1000));
      return 'delivered';
    }
    if (answer.status === 410) {
      await store.disableEndpoint(delivery.endpointId, '410 Gone', at);
      metrics?.webhookDeliveries.inc({ endpoint, result: 'gone' });
      jobLog.error(
        { endpointId: delivery.endpointId },
        'a webhook endpoint answered 410 Gone: nothing is sent to it until an operator enables it again',
      );
      return 'gone';
    }
    const dead = await recordFailure(delivery, answer, at, jobLog);
    metrics?.webhookDeliveries.inc({ endpoint, result: dead ? 'dead' : 'retry' });
    if (dead) {
      jobLog.error(
        { deliveryId, endpointId: delivery.endpointId, event: delivery.event },
        'webhook delivery dead-lettered: its retry window has passed',
      );
    }
    return dead ? 'dead' : 'retry';
  }

  /**
   * Records a failed attempt and schedules the next; answers whether the delivery is now a dead letter.
   * The error text is the one thing recorded that came from outside: should it still be refused, the
   * failure is recorded without it, so that the delivery moves on to its retries and, at the end of its
   * window, to the dead letters, rather than being sent again and again at its first attempt.
   */
  async function recordFailure(
    delivery: StoredDelivery,
    answer: AttemptResult,
    at: Date,
    jobLog: FastifyBaseLogger,
  ) {
    const dead = at.getTime() - delivery.createdAt.getTime() >= retryWindowMs;
    const verdict: EndpointVerdict = endpointFailing(answer.status)
      ? {
          failing: true,
          failures: delivery.endpointFailures + 1,
          backoffUntil: new Date(
            at.getTime() + waitMs(delivery.endpointFailures + 1, baseDelayMs, answer.retryAfterMs),
          ),
        }
      : { failing: false };
    const failure = {
      at,
      error: answer.error,
      status: answer.status,
      nextAttemptAt: new Date(at.getTime() + waitMs(delivery.attempts + 1, baseDelayMs, answer.retryAfterMs)),
      dead,
      endpoint: verdict,
    };
    try {
      await store.markFailed(delivery.id, failure);
    } catch (error) {
      jobLog.warn(
        { err: error, deliveryId: delivery.id, endpointId: delivery.endpointId },
        'could not record a failed webhook delivery with its error text; recording it without',
      );
      const plain = answer.status === null ? 'no answer' : `HTTP ${answer.status}`;
      await store.markFailed(delivery.id, { ...failure, error: `${plain} (error text not stored)` });
    }
    return dead;
  }

  /** The endpoint's next due delivery, leased, if it has room (none while it backs off). */
  async function claimNext(
    endpointId: number,
    jobLog: FastifyBaseLogger,
  ): Promise<StoredDelivery | undefined> {
    const at = now();
    try {
      return await store.claimNext(endpointId, at, new Date(at.getTime() + DELIVERY_LEASE_MS), perEndpoint);
    } catch (error) {
      jobLog.warn({ err: error, endpointId }, 'could not take the endpoint’s next delivery; the sweep will');
      return undefined;
    }
  }

  return { run };
}

export type Delivery = ReturnType<typeof createDelivery>;
