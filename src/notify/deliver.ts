import type { FastifyBaseLogger } from 'fastify';
import type { Metrics } from '../observability/metrics.js';
import type { WebhookStore } from '../store/webhook-store.js';
import { signedHeaders } from './signing.js';

/**
 * The delivery flow for one webhook message: send it, then record what became of it. Retries are
 * scheduled in Postgres (exponential, capped at an hour) until the retry window ends, then the message
 * is dead-lettered. A 410 Gone disables the endpoint instead: it has said it wants nothing more.
 */

export type DeliveryOutcome = 'delivered' | 'retry' | 'dead' | 'gone' | 'skipped';

const MAX_RETRY_DELAY_MS = 3_600_000;
/** An endpoint no longer configured keeps its messages: they wait for it to come back. */
const UNCONFIGURED_RETRY_MS = 3_600_000;
/** Enough of an error answer to say what went wrong in the dead-letter list. */
const ERROR_TEXT_CHARS = 200;

export function retryDelayMs(attempts: number, baseMs: number): number {
  const exponential = Math.min(MAX_RETRY_DELAY_MS, baseMs * 2 ** Math.max(0, attempts - 1));
  // Up to 10% more, so deliveries that failed together do not retry together.
  return Math.round(exponential * (1 + Math.random() * 0.1));
}

export function createDelivery({
  store,
  secrets,
  timeoutMs,
  retryDelayMs: baseDelayMs,
  retryWindowMs,
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
  /** Queues a delivery at once: the job's next one, after this one landed. */
  enqueue: (deliveryId: string) => Promise<void>;
  log: FastifyBaseLogger;
  now?: () => Date;
  fetch?: typeof fetch;
  metrics?: Metrics | undefined;
}) {
  async function run(deliveryId: string): Promise<DeliveryOutcome> {
    const delivery = await store.load(deliveryId);
    if (delivery?.status !== 'pending' || delivery.endpointDisabled) return 'skipped';
    const secret = secrets.get(delivery.url);
    if (secret === undefined) {
      await store.postpone(deliveryId, new Date(now().getTime() + UNCONFIGURED_RETRY_MS));
      return 'skipped';
    }
    const started = now();
    const answer = await post(delivery.url, delivery.payload, {
      'content-type': 'application/json',
      ...signedHeaders(secret, delivery.messageId, delivery.payload, started),
    });
    const at = now();
    const endpoint = String(delivery.endpointId);
    if (answer.ok) {
      const marked = await store.markDelivered(deliveryId, at, answer.status ?? 200);
      if (!marked) return 'skipped';
      metrics?.webhookDeliveries.inc({ endpoint, result: 'delivered' });
      metrics?.webhookLatency.observe(Math.max(0, (at.getTime() - delivery.changedAt.getTime()) / 1000));
      if (marked.nextId) {
        await enqueue(marked.nextId).catch((error: unknown) =>
          log.warn(
            { err: error, deliveryId: marked.nextId },
            'could not queue the next delivery; the sweep will',
          ),
        );
      }
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
    const dead = at.getTime() - delivery.createdAt.getTime() >= retryWindowMs;
    await store.markFailed(deliveryId, {
      at,
      error: answer.error,
      status: answer.status,
      nextAttemptAt: new Date(at.getTime() + retryDelayMs(delivery.attempts + 1, baseDelayMs)),
      dead,
    });
    metrics?.webhookDeliveries.inc({ endpoint, result: dead ? 'dead' : 'retry' });
    if (dead) {
      log.error(
        { deliveryId, endpointId: delivery.endpointId, event: delivery.event },
        'webhook delivery dead-lettered: its retry window has passed',
      );
    }
    return dead ? 'dead' : 'retry';
  }

  async function post(url: string, payload: string, headers: Record<string, string>) {
    try {
      const response = await send(url, {
        method: 'POST',
        headers,
        body: payload,
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'manual',
      });
      const text = response.ok ? '' : (await response.text().catch(() => '')).slice(0, ERROR_TEXT_CHARS);
      if (response.ok) await response.body?.cancel().catch(() => undefined);
      return {
        ok: response.ok,
        status: response.status,
        error: `HTTP ${response.status}${text ? `: ${text}` : ''}`,
      };
    } catch (error) {
      const timedOut =
        error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      return {
        ok: false,
        status: null,
        error: timedOut ? `timed out after ${timeoutMs} ms` : 'network error',
      };
    }
  }

  return { run };
}

export type Delivery = ReturnType<typeof createDelivery>;
