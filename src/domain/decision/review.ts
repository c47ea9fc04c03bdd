import { decide, sameAnswer } from './decide.js';
import type { DecisionFacts } from './facts.js';
import type { JobDecision } from './job-decision.js';
import { BUILT_IN_RULES, type PolicyInUse } from './policy.js';

/**
 * People settle what the policy sends to review. A person's decision (`source: operator`) rests on the
 * facts they saw, kept with it as its basis: it stands while Smile ID's confirmed evidence gives the
 * policy the same answer it gave on those facts, and when it no longer does, the job goes back to review,
 * saying so, because the person decided on evidence that no longer holds.
 */

/** What a person may decide of a job in review. */
export const REVIEW_VERDICTS = ['approve', 'reject'] as const;
export type ReviewVerdict = (typeof REVIEW_VERDICTS)[number];

export interface ReviewVerdictRequest {
  decision: ReviewVerdict;
  /** A snake_case word saying why: the decision's reason. */
  reason: string;
}

/** A job waits for a person: its decision is `review`, the policy's or one reopened. */
export const inReview = (decision: Pick<JobDecision, 'value'>): boolean => decision.value === 'review';

/** The review the service reopened after a person's decision: it waits for a person again, whatever comes. */
export const reopenedReview = (decision: Pick<JobDecision, 'value' | 'rule' | 'source'>): boolean =>
  decision.source === 'policy' &&
  decision.value === 'review' &&
  decision.rule === BUILT_IN_RULES.evidenceChangedSinceReview;

/**
 * A person's decision on a job in review, resting on the facts the job shows now; null when the job is
 * not in review. It keeps the users the review named and the rule that asked for it, so that whoever acts
 * on it sees what the person settled.
 */
export function operatorDecision(
  current: JobDecision,
  facts: DecisionFacts,
  request: ReviewVerdictRequest,
  at: Date,
): JobDecision | null {
  if (!inReview(current)) return null;
  return {
    value: request.decision,
    reasons: [request.reason],
    details: current.details,
    rule: current.rule,
    source: 'operator',
    policyVersion: current.policyVersion,
    decidedAt: at,
    basis: facts,
  };
}

/**
 * A person's decision after the job's evidence changed. It stands while the policy in force answers the
 * job's facts as it answers the facts the person saw (an unrelated change: a repeat, a registration, a
 * schedule), while what changed is not confirmed by job_status (a claim proves nothing), and when the
 * policy's new answer is the person's own decision (nothing left to settle). Otherwise the job is in
 * review again, with the policy's new reasons after the one that says why.
 */
export function afterOperatorDecision(
  previous: JobDecision,
  facts: DecisionFacts,
  policy: PolicyInUse,
  at: Date,
): JobDecision {
  const basis = previous.basis;
  if (basis === undefined || !facts.confirmed) return previous;
  const then = decide(policy.policy, basis);
  const now = decide(policy.policy, facts);
  if (sameAnswer(then, now) || now.value === previous.value) return previous;
  return {
    value: 'review',
    reasons: [BUILT_IN_RULES.evidenceChangedSinceReview, ...now.reasons],
    details: now.details,
    rule: BUILT_IN_RULES.evidenceChangedSinceReview,
    source: 'policy',
    policyVersion: policy.version,
    decidedAt: at,
  };
}

/** The decision went back to review because the evidence under a person's decision changed. */
export const reviewReopened = (
  before: Pick<JobDecision, 'source'> | null,
  after: Pick<JobDecision, 'value' | 'rule' | 'source'>,
): boolean => before?.source === 'operator' && reopenedReview(after);
