import { catalog, type QUEUES } from '../queues/catalog.js';
import type { Producer } from '../queues/producer.js';
import type { SubmissionStore } from '../store/submissions/submission-store.js';
import { SUBMISSION_LEASE_MS } from './submit-job.js';

/**
 * Hands Redis the submissions that no worker holds by their `next_attempt_at`: queued while Redis was
 * down, or lost with it. Postgres keeps every accepted submission; Redis only carries the work.
 */
export function createSubmissionSweep({
  store,
  producer,
  batchSize,
  now = () => new Date(),
}: {
  store: Pick<SubmissionStore, 'claimDue'>;
  producer: Pick<Producer<typeof QUEUES.submissions>, 'addBulk'>;
  batchSize: number;
  now?: () => Date;
}) {
  return async function sweepSubmissions(): Promise<number> {
    const at = now();
    const jobIds = await store.claimDue(at, new Date(at.getTime() + SUBMISSION_LEASE_MS), batchSize);
    await producer.addBulk(
      catalog.submitJob,
      jobIds.map((jobId) => ({ data: { jobId } })),
    );
    return jobIds.length;
  };
}
