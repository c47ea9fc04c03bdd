import type { FastifyBaseLogger } from 'fastify';
import { DELIVERY_LEASE_MS } from '../domain/webhook-endpoints.js';
import type { Metrics } from '../observability/metrics.js';
import type { StoredDelivery } from '../store/webhooks/deliveries.js';
import type { WebhookStore } from '../store/webhooks/webhook-store.js';
import { attemptDelivery } from './attempt.js';
import { recordFailure } from './delivery-failure.js';
import { signedHeaders } from './signing.js';

export { retryDelayMs } from './delivery-failure.js';

export type DeliveryOutcome = 'delivered' | 'retry' | 'dead' | 'gone' | 'skipped';

/** An endpoint no longer configured keeps its messages: they wait for it to come back. */
const UNCONFIGURED_RETRY_MS = 3_600_000;
/** How long one queued job goes on with its endpoint's next deliveries before it queues the rest. */
const CHAIN_BUDGET_MS = 2000;

/** What every delivery works with: the flow's dependencies and settings. */
interface DeliveryFlow {
  store: WebhookStore;
  secrets: ReadonlyMap<string, string>;
  timeoutMs: number;
  baseDelayMs: number;
  retryWindowMs: number;
  perEndpoint: number;
  enqueue: (deliveryIds: readonly string[]) => Promise<void>;
  now: () => Date;
  send: typeof fetch;
  metrics: Metrics | undefined;
}

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
  const flow: DeliveryFlow = {
    store,
    secrets,
    timeoutMs,
    baseDelayMs,
    retryWindowMs,
    perEndpoint,
    enqueue,
    now,
    send,
    metrics,
  };
  return {
    /**
     * Runs a queued delivery, then, while its endpoint has one due and the budget lasts, the next. Answers
     * what became of the queued one. `checkpoint` records in the queued job which delivery it is on, so
     * that a worker taking the job over after this one died resends that one rather than waiting out its
     * lease. `jobLog`: the queued job's logger, naming it.
     */
    run: (
      deliveryId: string,
      checkpoint: (deliveryId: string) => Promise<void> = async () => undefined,
      jobLog: FastifyBaseLogger = log,
    ): Promise<DeliveryOutcome> => runChain(flow, deliveryId, checkpoint, jobLog),
  };
}

async function runChain(
  flow: DeliveryFlow,
  deliveryId: string,
  checkpoint: (deliveryId: string) => Promise<void>,
  log: FastifyBaseLogger,
): Promise<DeliveryOutcome> {
  const startedAt = performance.now();
  const queued = await flow.store.load(deliveryId);
  if (!queued) return 'skipped';
  const outcome = await attempt(flow, queued, log);
  let [current, result] = [queued, outcome];
  while (result !== 'skipped') {
    const next = await claimNext(flow, current.endpointId, log);
    if (!next) break;
    if (performance.now() - startedAt >= CHAIN_BUDGET_MS) {
      await flow
        .enqueue([next.id])
        .catch((error: unknown) =>
          log.warn(
            { err: error, deliveryId: next.id },
            'could not queue a delivery; the sweep will once its lease lapses',
          ),
        );
      break;
    }
    await checkpoint(next.id).catch((error: unknown) =>
      log.warn({ err: error, deliveryId: next.id }, 'could not note the delivery in its queued job'),
    );
    [current, result] = [next, await attempt(flow, next, log)];
  }
  return outcome;
}

/** Sends one delivery and records what became of it. */
async function attempt(
  flow: DeliveryFlow,
  delivery: StoredDelivery,
  log: FastifyBaseLogger,
): Promise<DeliveryOutcome> {
  const { store, now, metrics } = flow;
  const deliveryId = delivery.id;
  if (delivery.status !== 'pending' || delivery.endpointDisabled) return 'skipped';
  const secret = flow.secrets.get(delivery.url);
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
    send: flow.send,
    url: delivery.url,
    payload: delivery.payload,
    headers: {
      'content-type': 'application/json',
      ...signedHeaders(secret, delivery.messageId, delivery.payload, started),
    },
    timeoutMs: flow.timeoutMs,
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
    log.error(
      { endpointId: delivery.endpointId },
      'a webhook endpoint answered 410 Gone: nothing is sent to it until an operator enables it again',
    );
    return 'gone';
  }
  const dead = await recordFailure(flow, delivery, answer, at, log);
  metrics?.webhookDeliveries.inc({ endpoint, result: dead ? 'dead' : 'retry' });
  if (dead) {
    log.error(
      { deliveryId, endpointId: delivery.endpointId, event: delivery.event },
      'webhook delivery dead-lettered: its retry window has passed',
    );
  }
  return dead ? 'dead' : 'retry';
}

/** The endpoint's next due delivery, leased, if it has room (none while it backs off). */
async function claimNext(
  { store, now, perEndpoint }: DeliveryFlow,
  endpointId: number,
  log: FastifyBaseLogger,
): Promise<StoredDelivery | undefined> {
  const at = now();
  try {
    return await store.claimNext(endpointId, at, new Date(at.getTime() + DELIVERY_LEASE_MS), perEndpoint);
  } catch (error) {
    log.warn({ err: error, endpointId }, 'could not take the endpoint’s next delivery; the sweep will');
    return undefined;
  }
}

export type Delivery = ReturnType<typeof createDelivery>;
