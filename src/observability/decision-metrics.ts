import { Counter, Gauge, type Registry } from 'prom-client';
import { decisionChanged, type JobDecision } from '../domain/decision/job-decision.js';
import { DECISION_VALUES } from '../domain/decision/policy.js';
import { REVIEW_VERDICTS, reviewReopened } from '../domain/decision/review.js';

// What the service decides of each job, and the people who settle its reviews.

/** Decisions by value and reason, reviews settled and reopened, the review queue read from Postgres. */
export function decisionMetrics(registry: Registry) {
  const registers = [registry];
  const metrics = {
    decisions: new Counter({
      name: 'smileid_decisions_total',
      help: 'Decisions the policy made that a consumer acts on (each a job.decided webhook), by value: approve, review, reject, retry, pending.',
      labelNames: ['decision'] as const,
      registers,
    }),
    decisionReasons: new Counter({
      name: 'smileid_decision_reasons_total',
      help: "The reasons of the policy's decisions, by decision and reason (the policy's own vocabulary and the service's: no_result, awaiting_confirmation, stale, evidence_changed_since_review, unconfirmed_claim).",
      labelNames: ['decision', 'reason'] as const,
      registers,
    }),
    reviewsSettled: new Counter({
      name: 'smileid_reviews_settled_total',
      help: 'Reviews a person settled (POST /v1/jobs/:jobId/review), by decision: approve or reject.',
      labelNames: ['decision'] as const,
      registers,
    }),
    reviewsReopened: new Counter({
      name: 'smileid_reviews_reopened_total',
      help: "Jobs sent back to review because Smile ID's confirmed evidence changed the policy's answer after a person decided.",
      registers,
    }),
    /** Filled at scrape time from Postgres (see job-gauges.ts). */
    reviewQueue: new Gauge({
      name: 'smileid_review_queue_jobs',
      help: 'Jobs waiting for a person: their decision is review.',
      registers,
    }),
    reviewOldest: new Gauge({
      name: 'smileid_review_oldest_seconds',
      help: 'How long the job longest in review has waited since its decision became review (0 when none).',
      registers,
    }),
    reviewSla: new Gauge({
      name: 'smileid_review_sla_seconds',
      help: 'REVIEW_SLA_HOURS in seconds: a review waiting longer fires SmileIdReviewOverdue.',
      registers,
    }),
  };
  // Series that panels and alerts read exist from the start at 0.
  for (const decision of DECISION_VALUES) metrics.decisions.inc({ decision }, 0);
  for (const decision of REVIEW_VERDICTS) metrics.reviewsSettled.inc({ decision }, 0);
  metrics.reviewsReopened.inc(0);
  return metrics;
}

/** A job's decision before a write (null for a new job) and after it. */
export interface DecisionMove {
  before: JobDecision | null;
  after: JobDecision;
}

/**
 * Counts a decision the service made in a write, when it is one a consumer acts on (a `job.decided`
 * webhook): by value, and each of its reasons; and a review reopened because a person's decision no longer
 * holds. A person's own decisions are counted where they are made (smileid_reviews_settled_total).
 */
export function recordDecision(
  metrics: ReturnType<typeof decisionMetrics> | undefined,
  move: DecisionMove | undefined,
): void {
  if (!metrics || !move) return;
  const { before, after } = move;
  if (after.source !== 'policy' || !decisionChanged(before, after)) return;
  metrics.decisions.inc({ decision: after.value });
  for (const reason of new Set(after.reasons)) metrics.decisionReasons.inc({ decision: after.value, reason });
  if (reviewReopened(before, after)) metrics.reviewsReopened.inc();
}
