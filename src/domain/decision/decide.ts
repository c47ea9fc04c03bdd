import { holds } from './conditions.js';
import { type DecisionFacts, withoutClaims } from './facts.js';
import { BUILT_IN_RULES, type Conditions, type DecisionValue, type Policy } from './policy.js';

/** The users a decision rests on, when its rule looked at them. */
export interface DecisionDetails {
  /** Other users who registered the job's ID number before (the rule read `previouslyRegisteredByOthers`). */
  previousRegistrantUserIds?: string[];
  /** Users Smile Secure named as suspects (the rule read `smileSecure` or `suspectUsers`). */
  suspectUserIds?: string[];
}

/** What a policy says of a job: its decision, why, and which rule said so. */
export interface PolicyAnswer {
  value: DecisionValue;
  reasons: string[];
  details: DecisionDetails;
  rule: string;
}

/**
 * The policy's answer for a job. Nothing but `pending` rests on a result job_status has not confirmed:
 * a callback's body is not covered by its signature, so before the rules are read, a job with no result
 * from Smile ID yet, or with one only a callback claims, is `pending` whatever the policy says. Then the
 * first rule whose conditions all hold decides, else the fallback; and an answer that acts on the user
 * (approve, reject, retry) stands only if the risk facts only callbacks have stated did not give it
 * (`answerWithoutClaims`).
 */
export function decide(policy: Policy, facts: DecisionFacts): PolicyAnswer {
  const staleness = facts.stale ? ['stale'] : [];
  if (facts.state === 'pending') {
    return builtIn(BUILT_IN_RULES.noResult, staleness);
  }
  if (!facts.confirmed) {
    return builtIn(BUILT_IN_RULES.awaitingConfirmation, staleness);
  }
  return answerWithoutClaims(policy, facts);
}

/** Answers that act on nobody: a person looks, or nothing is done yet. A claim may lead to these. */
const WAITING: ReadonlySet<DecisionValue> = new Set(['review', 'pending']);

/**
 * The answer with the claimed facts as stated, if the policy gives the same decision without them;
 * else `review` (rule `unconfirmed_claim`, then the reasons the claims would give), naming the users the
 * claims name. So a forged body can send a job to a person, never approve, reject or retry it.
 *
 * Why against the facts without the claims, rather than asking whether the rule that decided read a
 * claimed fact: the first rule that holds decides, so a claim also decides through the rules it makes
 * fail. Under a policy that reviews `previouslyRegisteredByOthers: [true, unknown]` and then approves
 * an exact match, a forged "not registered before" fails the first rule and the approving rule never
 * reads it. Deciding both ways catches every such path and needs nothing of how the policy is written:
 * the decision either does not depend on the claims, or is left to a person.
 */
function answerWithoutClaims(policy: Policy, facts: DecisionFacts): PolicyAnswer {
  const stated = firstHolding(policy, facts);
  if (facts.claimed.length === 0 || WAITING.has(stated.value)) return stated;
  if (firstHolding(policy, withoutClaims(facts)).value === stated.value) return stated;
  return {
    value: 'review',
    reasons: [BUILT_IN_RULES.unconfirmedClaim, ...stated.reasons],
    details: claimedDetails(facts),
    rule: BUILT_IN_RULES.unconfirmedClaim,
  };
}

/** The first rule whose conditions all hold, else the fallback. */
function firstHolding(policy: Policy, facts: DecisionFacts): PolicyAnswer {
  const rule = policy.rules.find((candidate) => holds(candidate.when, facts));
  if (!rule) {
    return {
      value: policy.fallback.decision,
      reasons: policy.fallback.reasons,
      details: {},
      rule: BUILT_IN_RULES.fallback,
    };
  }
  return { value: rule.decision, reasons: rule.reasons, details: detailsOf(rule.when, facts), rule: rule.id };
}

function builtIn(rule: string, extraReasons: string[]): PolicyAnswer {
  return { value: 'pending', reasons: [rule, ...extraReasons], details: {}, rule };
}

/** The users the claimed facts name, so that the person the job goes to sees whom the claims are about. */
function claimedDetails(facts: DecisionFacts): DecisionDetails {
  return detailsOf(
    {
      ...(facts.claimed.includes('previouslyRegisteredByOthers') ? { previouslyRegisteredByOthers: [] } : {}),
      ...(facts.claimed.includes('smileSecure') ? { smileSecure: [] } : {}),
    },
    facts,
  );
}

/** The users named by the facts a rule read, so whoever acts on the decision sees whom it is about. */
function detailsOf(when: Conditions, facts: DecisionFacts): DecisionDetails {
  const details: DecisionDetails = {};
  if (when.previouslyRegisteredByOthers !== undefined && facts.otherRegistrantUserIds.length > 0) {
    details.previousRegistrantUserIds = facts.otherRegistrantUserIds;
  }
  if (
    (when.smileSecure !== undefined || when.suspectUsers !== undefined) &&
    facts.suspectUserIds.length > 0
  ) {
    details.suspectUserIds = facts.suspectUserIds;
  }
  return details;
}

/**
 * Whether two answers say the same: the same decision, for the same reasons, about the same users, by the
 * same rule. When the policy's answer for a job is the same again, its decision has not changed.
 */
export function sameAnswer(a: PolicyAnswer, b: PolicyAnswer): boolean {
  return (
    a.value === b.value &&
    a.rule === b.rule &&
    sameList(a.reasons, b.reasons) &&
    sameList(a.details.previousRegistrantUserIds ?? [], b.details.previousRegistrantUserIds ?? []) &&
    sameList(a.details.suspectUserIds ?? [], b.details.suspectUserIds ?? [])
  );
}

const sameList = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((item, index) => item === b[index]);
