import type { Queue } from 'bullmq';
import type { SubmissionStore } from '../store/submissions/submission-store.js';
import { enqueueSubmissions, type SubmissionRetries } from './enqueue.js';
import { SUBMISSION_LEASE_MS } from './submit-job.js';

/**
 * Hands Redis the submissions that no worker holds by their `next_attempt_at`: queued while Redis was
 * down, or lost with it. Postgres keeps every accepted submission; Redis only carries the work.
 */
export function createSubmissionSweep({
  store,
  queue,
  retries,
  batchSize,
  now = () => new Date(),
}: {
  store: Pick<SubmissionStore, 'claimDue'>;
  queue: Queue;
  retries: SubmissionRetries;
  batchSize: number;
  now?: () => Date;
}) {
  return async function sweepSubmissions(): Promise<number> {
    const at = now();
    const jobIds = await store.claimDue(at, new Date(at.getTime() + SUBMISSION_LEASE_MS), batchSize);
    if (jobIds.length > 0) await enqueueSubmissions(queue, jobIds, retries);
    return jobIds.length;
  };
}
