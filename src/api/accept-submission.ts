import { randomUUID } from 'node:crypto';
import { initialDecision } from '../domain/decision/job-decision.js';
import type { PolicyInUse } from '../domain/decision/policy.js';
import { contentDigestParts, type SubmissionContent } from '../domain/submission.js';
import type { SubmissionStore } from '../store/submissions/submission-store.js';

export type AcceptResult =
  | { kind: 'created' | 'identical'; jobId: string }
  | { kind: 'conflict' }
  | { kind: 'job_exists' };

/**
 * How long a new submission waits for the API's own enqueue before the sweep queues it instead: long
 * enough that the sweep never races a healthy enqueue, short enough that a Redis outage costs seconds.
 */
const SWEEP_GRACE_MS = 30_000;

/**
 * The submission flow on the API side: store the request (sealed) with its registered job, durably,
 * then hand it to the workers. The same request again is recognised by its content digest, so a client
 * that retries with its own job id gets the same job; a job id reused for other content is a conflict.
 */
export function createSubmissionIntake({
  store,
  enqueue,
  policy,
  now = () => new Date(),
}: {
  store: Pick<SubmissionStore, 'create'>;
  /** The decision policy in force: a new job is decided under it (pending: Smile ID has said nothing). */
  policy: Pick<PolicyInUse, 'version'>;
  /** Queues the upload at once; may fail while Redis is down, which the sweep makes up for. */
  enqueue: (jobId: string) => Promise<void>;
  now?: () => Date;
}) {
  async function accept(
    request: { jobId?: string | undefined; content: SubmissionContent },
    { onEnqueueFailed }: { onEnqueueFailed: (error: unknown) => void },
  ): Promise<AcceptResult> {
    const jobId = request.jobId ?? randomUUID();
    const at = now();
    const created = await store.create(jobId, request.content, contentDigestParts(request.content), {
      at,
      nextAttemptAt: new Date(at.getTime() + SWEEP_GRACE_MS),
      decision: initialDecision(policy, at),
    });
    if (created === 'conflict') return { kind: 'conflict' };
    if (created === 'job_exists') return { kind: 'job_exists' };
    if (created === 'created') await enqueue(jobId).catch(onEnqueueFailed);
    return { kind: created, jobId };
  }
  return { accept };
}

export type SubmissionIntake = ReturnType<typeof createSubmissionIntake>;
