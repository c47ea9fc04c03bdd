import type { FastifyBaseLogger } from 'fastify';
import type { Cursors } from '../api/cursor.js';
import type { Metrics } from '../observability/metrics.js';
import { catalog, QUEUES } from '../queues/catalog.js';
import type { JobModule } from '../queues/job-module.js';
import type { Producer } from '../queues/producer.js';
import type { WebhookStore } from '../store/webhooks/webhook-store.js';
import { createDelivery } from './deliver.js';
import { draftDeliveries } from './messages.js';
import { createNotificationSweep } from './sweep.js';

/** New changes become webhook deliveries within this long (plus the delivery itself). */
const NOTIFICATION_SWEEP_INTERVAL_MS = 500;

/** BullMQ's lock on a delivery in flight, renewed at half this while its worker lives. */
const DELIVERY_LOCK_MS = 5000;

/**
 * Notifications' queued work: webhook deliveries to the internal endpoints on a queue of their own (not
 * Smile ID's budget), and the sweep that makes deliveries of new changes and queues the due ones. With
 * no endpoint configured, nothing is swept; deliveries already queued still run.
 */
export interface NotifySettings {
  /** The endpoints (NOTIFY_WEBHOOK_URLS) and the secrets of each. */
  urls: readonly string[];
  secrets: ReadonlyMap<string, string>;
  /** Deliveries in flight per endpoint (NOTIFY_CONCURRENCY). */
  perEndpoint: number;
  timeoutMs: number;
  retryDelayMs: number;
  retryWindowMs: number;
  batchSize: number;
}

export function notifyJobs({
  producer,
  store,
  settings,
  cursors,
  log,
  metrics,
  now,
}: {
  producer: Pick<Producer<typeof QUEUES.notifications>, 'addBulk'>;
  store: WebhookStore;
  settings: NotifySettings;
  /** Signs the feed cursor each message carries, as GET /v1/changes issues it. */
  cursors: Pick<Cursors, 'change'>;
  /** For what happens outside a queued job; a job's own lines go to its logger. */
  log: FastifyBaseLogger;
  metrics?: Metrics | undefined;
  now?: () => Date;
}): JobModule {
  const { urls, secrets, perEndpoint, timeoutMs, retryDelayMs, retryWindowMs, batchSize } = settings;
  const enqueue = (deliveryIds: readonly string[]) =>
    producer.addBulk(
      catalog.deliverNotification,
      deliveryIds.map((deliveryId) => ({ data: { deliveryId } })),
    );
  const delivery = createDelivery({
    store,
    secrets,
    timeoutMs,
    retryDelayMs,
    retryWindowMs,
    perEndpoint,
    enqueue,
    log,
    now,
    metrics,
  });
  const sweepNotifications = createNotificationSweep({
    store,
    urls,
    enqueue,
    batchSize,
    perEndpoint,
    now,
    draft: (changes) => draftDeliveries(changes, cursors),
  });
  return {
    feature: 'notify',
    queues: {
      [QUEUES.notifications]: {
        // Room for every endpoint's share at once: the sweep hands out at most `perEndpoint` deliveries
        // of an endpoint, so however slow one endpoint is, it never holds a slot another one needs.
        concurrency: perEndpoint * Math.max(1, urls.length),
        // Renewed while a delivery runs: a worker that died mid-delivery gives it back within seconds.
        lockDuration: DELIVERY_LOCK_MS,
        stalledInterval: DELIVERY_LOCK_MS,
      },
    },
    handlers: {
      deliverNotification: ({ deliveryId }, { checkpoint, log }) =>
        delivery.run(deliveryId, (next) => checkpoint({ deliveryId: next }), log),
      sweepNotifications: () => sweepNotifications(),
    },
    schedules: urls.length > 0 ? { sweepNotifications: { every: NOTIFICATION_SWEEP_INTERVAL_MS } } : {},
  };
}
