import type { FastifyBaseLogger } from 'fastify';
import { endpointFailing } from '../domain/webhook-endpoints.js';
import type { EndpointVerdict } from '../store/webhooks/attempts.js';
import type { StoredDelivery } from '../store/webhooks/deliveries.js';
import type { WebhookStore } from '../store/webhooks/webhook-store.js';
import type { AttemptResult } from './attempt.js';

/** The retry cap: no wait is longer, whatever a Retry-After asks. */
const MAX_RETRY_DELAY_MS = 3_600_000;

export function retryDelayMs(attempts: number, baseMs: number): number {
  const exponential = Math.min(MAX_RETRY_DELAY_MS, baseMs * 2 ** Math.max(0, attempts - 1));
  // Up to 10% more, so deliveries that failed together do not retry together.
  return Math.round(exponential * (1 + Math.random() * 0.1));
}

/** The wait before the next attempt: the backoff, or longer if the receiver asked so; never past the cap. */
function waitMs(failures: number, baseMs: number, askedMs: number | null): number {
  return Math.max(retryDelayMs(failures, baseMs), Math.min(MAX_RETRY_DELAY_MS, askedMs ?? 0));
}

/**
 * Records a failed attempt and schedules the next; answers whether the delivery is now a dead letter.
 * The error text is the one thing recorded that came from outside: should it still be refused, the
 * failure is recorded without it, so that the delivery moves on to its retries and, at the end of its
 * window, to the dead letters, rather than being sent again and again at its first attempt.
 */
export async function recordFailure(
  { store, baseDelayMs, retryWindowMs }: { store: WebhookStore; baseDelayMs: number; retryWindowMs: number },
  delivery: StoredDelivery,
  answer: AttemptResult,
  at: Date,
  log: FastifyBaseLogger,
): Promise<boolean> {
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
    log.warn(
      { err: error, deliveryId: delivery.id, endpointId: delivery.endpointId },
      'could not record a failed webhook delivery with its error text; recording it without',
    );
    const plain = answer.status === null ? 'no answer' : `HTTP ${answer.status}`;
    await store.markFailed(delivery.id, { ...failure, error: `${plain} (error text not stored)` });
  }
  return dead;
}
