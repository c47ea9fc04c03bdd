import type { Queue } from 'bullmq';
import { catalog, checkJobId, retriedJobOptions } from '../queues/catalog.js';

export interface SubmissionRetries {
  attempts: number;
  retryDelayMs: number;
}

/**
 * Queues submissions by job id. The BullMQ job id is the submission's own, so one queued or running
 * is never queued twice, by the API or by any sweep.
 */
export async function enqueueSubmissions(
  queue: Queue,
  jobIds: readonly string[],
  retries: SubmissionRetries,
): Promise<void> {
  await queue.addBulk(
    jobIds.map((jobId) => ({
      name: catalog.submitJob.name,
      data: catalog.submitJob.data.parse({ jobId }),
      opts: { jobId: checkJobId(jobId, 'submit'), ...retriedJobOptions(retries) },
    })),
  );
}
