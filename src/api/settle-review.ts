import { decisionFacts } from '../domain/decision/facts.js';
import type { JobDecision } from '../domain/decision/job-decision.js';
import { operatorDecision, type ReviewVerdictRequest } from '../domain/decision/review.js';
import type { Reviewer, ReviewStore } from '../store/jobs/reviews.js';
import { withCompareAndSwap } from '../store/transactions.js';

export interface ReviewRequest extends ReviewVerdictRequest {
  note?: string | undefined;
}

export type ReviewResult =
  | { kind: 'settled'; replaced: JobDecision; decision: JobDecision }
  | { kind: 'not_found' }
  | { kind: 'not_in_review' };

/**
 * POST /v1/jobs/:jobId/review: a person settles a job in review. The job is read, the person's decision
 * made from its decision and the facts it shows now (domain/decision/review.ts), and written with its
 * audit row only if the job has not changed since; otherwise read again, so a decision never rests on
 * facts the person did not see, and a job that left review meanwhile is refused.
 */
export function createReviewSettlement({ store, now }: { store: ReviewStore; now: () => Date }) {
  async function settle(jobId: string, request: ReviewRequest, reviewer: Reviewer): Promise<ReviewResult> {
    return withCompareAndSwap(async (): Promise<ReviewResult | null> => {
      const job = await store.load(jobId);
      if (!job) return { kind: 'not_found' };
      const at = now();
      const facts = decisionFacts(job.outcome, {
        idType: job.idType,
        country: job.country,
        stale: job.staleAt !== null,
      });
      const decision = operatorDecision(job.decision, facts, request, at);
      if (!decision) return { kind: 'not_in_review' };
      const written = await store.settle({
        jobId,
        version: job.version,
        replaced: job.decision,
        decision,
        note: request.note ?? null,
        reviewer,
        at,
      });
      return written ? { kind: 'settled', replaced: job.decision, decision } : null;
    });
  }

  return { settle };
}

export type ReviewSettlement = ReturnType<typeof createReviewSettlement>;
