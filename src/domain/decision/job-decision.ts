import type { JobOutcome } from '../outcome.js';
import { decide, type PolicyAnswer, sameAnswer } from './decide.js';
import { type DecisionContext, type DecisionFacts, decisionFacts } from './facts.js';
import { BUILT_IN_RULES, type DecisionSource, type PolicyInUse } from './policy.js';
import { afterOperatorDecision, reopenedReview } from './review.js';

/** A job's decision as stored and shown: the answer, who gave it, under which policy, since when. */
export interface JobDecision extends PolicyAnswer {
  source: DecisionSource;
  /**
   * `name@digest` of the policy that decided; null for a job decided before any policy was in force (one
   * that predates decisions), until the policy in force is replayed over it.
   */
  policyVersion: string | null;
  /** When the decision last changed: a job decided the same way again keeps it. */
  decidedAt: Date;
  /**
   * A person's decision only: the facts the job showed when they decided (review.ts). It stands while the
   * policy answers the job's facts as it answered these.
   */
  basis?: DecisionFacts | undefined;
}

/** The decision of a job Smile ID has said nothing about yet: a new registration or submission. */
export function initialDecision(policy: Pick<PolicyInUse, 'version'>, at: Date): JobDecision {
  return {
    value: 'pending',
    reasons: [BUILT_IN_RULES.noResult],
    details: {},
    rule: BUILT_IN_RULES.noResult,
    source: 'policy',
    policyVersion: policy.version,
    decidedAt: at,
  };
}

/**
 * The job's decision after its evidence (or the policy) changed, derived afresh from the outcome: the
 * same for every order in which the evidence arrived. An unchanged answer keeps its `decidedAt` and takes
 * the policy's version, so deciding again is not a change. A person's decision stands or goes back to
 * review (review.ts), and a review reopened that way waits for a person whatever the evidence says next.
 */
export function redecide(
  outcome: JobOutcome,
  context: DecisionContext & { decision: JobDecision | null },
  policy: PolicyInUse,
  at: Date,
): JobDecision {
  const facts = decisionFacts(outcome, context);
  const previous = context.decision;
  if (previous?.source === 'operator') return afterOperatorDecision(previous, facts, policy, at);
  if (previous !== null && reopenedReview(previous)) return { ...previous, policyVersion: policy.version };
  const answer = decide(policy.policy, facts);
  if (previous !== null && previous.source === 'policy' && sameAnswer(previous, answer)) {
    return { ...previous, policyVersion: policy.version };
  }
  return { ...answer, source: 'policy', policyVersion: policy.version, decidedAt: at };
}

/** What tells two decisions apart; when and under which version they were made does not. */
export type ComparedDecision = Pick<JobDecision, 'value' | 'reasons' | 'details' | 'rule' | 'source'>;

/**
 * Whether the decision changed in a way a consumer acts on: its value, its reasons or the users they
 * name, its rule or its source. A change from `pending` to `pending` (no result yet, then a result not yet
 * confirmed) has nothing to act on either side, so it is not one.
 */
export function decisionChanged(before: ComparedDecision | null, after: ComparedDecision): boolean {
  if (before === null) return after.value !== 'pending';
  if (before.value === 'pending' && after.value === 'pending') return false;
  return before.source !== after.source || !sameAnswer(before, after);
}
