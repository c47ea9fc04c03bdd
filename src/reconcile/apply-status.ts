import { createHash, randomUUID } from 'node:crypto';
import { changeFromStatus, type StatusChange } from '../domain/job-change.js';
import { statusShowsZip } from '../domain/submission.js';
import type { DecisionMove } from '../observability/metrics.js';
import { classifyJobStatusShape } from '../smileid/classify.js';
import type { JobStatusAnswer } from '../smileid/job-status-client.js';
import { parseSmileTimestamp } from '../smileid/timestamp.js';
import type { StoredJob } from '../store/jobs/job-table.js';
import type { StashedBody } from '../store/objects/body-vault.js';
import { withCompareAndSwap } from '../store/transactions.js';
import type { CheckFlow } from './check-flow.js';

export type VerifiedStatus = Extract<JobStatusAnswer, { kind: 'status' }>;

export interface AppliedStatus extends Pick<StatusChange, 'transition' | 'schedule'> {
  outcome: StatusChange['after'];
  firstSeenAt: Date;
  /** This answer made the job's final claim contradicted: job_status disagrees with a callback. */
  contradicted: boolean;
  /** When the job's submission was accepted, if this answer (showing the zip) marked it uploaded. */
  submissionAcceptedAt: Date | null;
  /** The job's decision before and after the answer (for metrics). */
  decision: DecisionMove;
}

/**
 * Merges a verified answer into the job, decided afresh from the job as read (`loaded` serves the
 * first attempt; a lost compare-and-swap reads it again). Undefined when the job no longer exists.
 */
export async function applyStatus(
  { store, pollModel, policy }: Pick<CheckFlow, 'store' | 'pollModel' | 'policy'>,
  jobId: string,
  status: VerifiedStatus,
  fetchedAt: Date,
  loaded?: StoredJob,
): Promise<AppliedStatus | undefined> {
  const classified = classifyJobStatusShape(status.body);
  const { timestamp: _t, signature: _s, ...content } = status.body;
  const answer = {
    ...classified,
    signedAt: parseSmileTimestamp(status.timestamp),
    contentHash: createHash('sha256').update(JSON.stringify(content)).digest('hex'),
    fetchedAt,
  };
  // Whom job_status was asked about: an answer confirms that user only, even if the job changed since.
  const askedUserId = loaded?.outcome.userId ?? null;
  let known = loaded;
  // One snapshot id and one stashed body for every attempt: a lost compare-and-swap writes nothing.
  const snapshotId = randomUUID();
  let stashed: StashedBody | undefined;
  let kept = false;
  return withCompareAndSwap(async () => {
    const job = known ?? (await store.load(jobId));
    known = undefined;
    if (!job) return undefined as AppliedStatus | undefined;
    const change = changeFromStatus(job, answer, { askedUserId, pollModel, policy });
    stashed ??= await store.stashBody(snapshotId, status.raw);
    // Smile ID has the zip of a submission still marked otherwise (its worker died mid-PUT, or before
    // it heard the answer): marked uploaded with this answer, in the same transaction.
    const pendingSubmission = job.submission !== null && job.submission.status !== 'uploaded';
    const written = await store.write(
      {
        jobId,
        version: job.version,
        change,
        at: fetchedAt,
        evidence: {
          id: snapshotId,
          fetchedAt,
          contentHash: answer.contentHash,
          facets: classified.kinds,
          jobComplete: typeof status.body.job_complete === 'boolean' ? status.body.job_complete : null,
          jobSuccess: typeof status.body.job_success === 'boolean' ? status.body.job_success : null,
          bodyBytes: status.raw.length,
          body: stashed.sealed,
          bodyObjects: stashed.objects,
        },
      },
      change.contradictedClaim === null ? null : { contentHash: change.contradictedClaim },
      pendingSubmission && statusShowsZip(status.body),
    );
    if (!written.written) return null;
    kept = written.snapshotStored;
    return {
      outcome: change.after,
      transition: change.transition,
      schedule: change.schedule,
      firstSeenAt: job.createdAt,
      contradicted: change.contradictedClaim !== null,
      submissionAcceptedAt: written.submissionAcceptedAt,
      decision: { before: job.decision, after: change.decision },
    };
  }).finally(() => {
    // The same answer stored before, the job gone, or every attempt lost: no row refers to its objects.
    if (stashed && !kept) store.discardObjects(stashed);
  });
}
