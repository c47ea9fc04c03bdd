import type { Queue } from 'bullmq';
import { catalog } from '../queues/catalog.js';

/** Queues deliveries by id; the BullMQ job id is the delivery's, so one is never queued twice at once. */
export async function enqueueDeliveries(queue: Queue, deliveryIds: readonly string[]): Promise<void> {
  await queue.addBulk(
    deliveryIds.map((deliveryId) => ({
      name: catalog.deliverNotification.name,
      data: catalog.deliverNotification.data.parse({ deliveryId }),
      opts: { jobId: `notify-${deliveryId}` },
    })),
  );
}
