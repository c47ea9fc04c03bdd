import { DELIVERY_LEASE_MS } from '../domain/webhook-endpoints.js';
import type { FeedChange } from '../store/feed/change-feed.js';
import type { WebhookStore } from '../store/webhooks/webhook-store.js';
import type { draftDeliveries } from './messages.js';

/** Changes turned into deliveries per transaction. */
const FAN_OUT_BATCH = 500;

/**
 * The notification sweep: marks this worker's endpoints configured (those no worker marks retire), makes
 * the deliveries of new changes for each, then hands Redis the deliveries that are due (the first
 * pending one of each job and endpoint), as many of an endpoint as it has room for (`perEndpoint`
 * in flight, fewer while it fails: see the webhook store).
 */
export function createNotificationSweep({
  store,
  urls,
  enqueue,
  batchSize,
  perEndpoint,
  now = () => new Date(),
  draft,
}: {
  store: WebhookStore;
  urls: readonly string[];
  enqueue: (deliveryIds: readonly string[]) => Promise<void>;
  batchSize: number;
  /** Deliveries of one endpoint in flight at once (NOTIFY_CONCURRENCY). */
  perEndpoint: number;
  now?: () => Date;
  /** The messages of changes (messages.ts), their feed cursors signed. */
  draft: (changes: FeedChange[]) => ReturnType<typeof draftDeliveries>;
}) {
  return async function sweepNotifications(): Promise<{ fannedOut: number; queued: number }> {
    if (urls.length === 0) return { fannedOut: 0, queued: 0 };
    const endpoints = await store.ensureEndpoints(urls, now());
    let fannedOut = 0;
    for (const endpoint of endpoints) {
      if (endpoint.disabledAt) continue;
      for (;;) {
        const taken = await store.fanOut(endpoint.id, FAN_OUT_BATCH, now(), draft);
        fannedOut += taken;
        if (taken < FAN_OUT_BATCH) break;
      }
    }
    let queued = 0;
    for (;;) {
      const at = now();
      const due = await store.claimDue(
        at,
        new Date(at.getTime() + DELIVERY_LEASE_MS),
        batchSize,
        perEndpoint,
      );
      if (due.length > 0) await enqueue(due);
      queued += due.length;
      if (due.length < batchSize) return { fannedOut, queued };
    }
  };
}
