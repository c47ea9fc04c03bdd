import type pg from 'pg';
import { createDeliveryAttempts } from './attempts.js';
import { createDeadLetters } from './dead-letters.js';
import { createWebhookDeliveries } from './deliveries.js';
import { createWebhookEndpoints } from './endpoints.js';
import { createWebhookFanOut } from './fan-out.js';

/**
 * Webhook deliveries: one row per message and endpoint, made from the change feed (fan-out), retried
 * on a schedule kept here (Redis only carries the work), dead-lettered at the end of the retry window.
 * Per job and endpoint, a delivery is handed out only once every earlier one has been delivered or
 * dead-lettered: receivers see a job's changes in order.
 *
 * Each endpoint is served on its own terms, so that one slow or failing endpoint cannot take the
 * delivery slots of the others: it has at most a few deliveries handed out (leased) at once, and one
 * that stops answering backs off as a whole (see endpointFailing), then is tried one delivery at a time
 * until it answers again.
 *
 * One store for its callers, made of a module per thing it keeps: endpoints, fan-out, deliveries handed
 * out, their attempts, and dead letters.
 */
export function createWebhookStore({ pool }: { pool: pg.Pool }) {
  return {
    ...createWebhookEndpoints({ pool }),
    ...createWebhookFanOut({ pool }),
    ...createWebhookDeliveries({ pool }),
    ...createDeliveryAttempts({ pool }),
    ...createDeadLetters({ pool }),
  };
}

export type WebhookStore = ReturnType<typeof createWebhookStore>;
