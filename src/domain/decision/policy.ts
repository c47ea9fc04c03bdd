import type { JobState } from '../facets.js';

/**
 * A decision policy: the company's rules for what to do with a job, as data. Rules are tried in order and
 * the first whose conditions all hold decides; the fallback decides when none does. The policy is read
 * from a file (src/decide/policy-file.ts), which checks it; this module only describes it.
 */

/** What to do with a job: let the user in, ask a person, turn them away, ask them to try again, or wait. */
export const DECISION_VALUES = ['approve', 'review', 'reject', 'retry', 'pending'] as const;
export type DecisionValue = (typeof DECISION_VALUES)[number];

/** Who made a job's decision: the policy, or (settling a review) a person. */
export const DECISION_SOURCES = ['policy', 'operator'] as const;
export type DecisionSource = (typeof DECISION_SOURCES)[number];

/** Smile Secure's signal as a condition reads it; `none` when no signal arrived. */
export const SMILE_SECURE_MEANINGS = ['no_suspects', 'suspects_found', 'system_error', 'none'] as const;
export type SmileSecureMeaning = (typeof SMILE_SECURE_MEANINGS)[number];

/** Whether another user registered the job's ID number before: known yes, known no, or not known. */
export type PreviouslyRegistered = true | false | 'unknown';

/** Bounds on a number; every bound given must hold, and a number that is absent satisfies none. */
export interface NumberRange {
  atLeast?: number;
  above?: number;
  atMost?: number;
  below?: number;
}

/**
 * What a rule asks of a job. Every condition given must hold; a list holds when the job's value is one of
 * its items. A result code item ending in `*` is a prefix (`"12*"`).
 */
export interface Conditions {
  state?: JobState[];
  isFinal?: boolean;
  stale?: boolean;
  resultCode?: string[];
  /** The code is one of Smile ID's documented outcome codes (src/domain/result-codes.ts). */
  resultCodeKnown?: boolean;
  /** Action name → the values that hold; the name `*` holds when any action has one of them. */
  actions?: Record<string, string[]>;
  jobType?: number[];
  idType?: string[];
  country?: string[];
  previouslyRegisteredByOthers?: PreviouslyRegistered[];
  smileSecure?: SmileSecureMeaning[];
  suspectUsers?: NumberRange;
  confidenceValue?: NumberRange;
}

export interface Rule {
  /** snake_case; names the rule in every decision it makes. */
  id: string;
  when: Conditions;
  decision: DecisionValue;
  /** snake_case words saying why; the rule's id when the file gives none. */
  reasons: string[];
  /** Where the rule comes from (a section of docs/smile-id.md, a compliance note): not part of the version. */
  source?: string;
  description?: string;
}

export interface Fallback {
  decision: DecisionValue;
  reasons: string[];
  source?: string;
  description?: string;
}

export interface Policy {
  /** Names the policy in its version, `name@digest`. */
  name: string;
  description?: string;
  rules: Rule[];
  fallback: Fallback;
}

/**
 * Rule ids the service gives itself, which a policy may not use: a job with no result from Smile ID yet,
 * a result job_status has not confirmed, the fallback, a person's decision that Smile ID's confirmed
 * evidence has since overtaken (domain/decision/review.ts), and an answer that only a claim job_status has
 * not confirmed would give (domain/decision/decide.ts).
 */
export const BUILT_IN_RULES = {
  noResult: 'no_result',
  awaitingConfirmation: 'awaiting_confirmation',
  fallback: 'fallback',
  evidenceChangedSinceReview: 'evidence_changed_since_review',
  unconfirmedClaim: 'unconfirmed_claim',
} as const;

export const RESERVED_RULE_IDS: ReadonlySet<string> = new Set(Object.values(BUILT_IN_RULES));

/** The policy and its version, as the service decides with it. */
export interface PolicyInUse {
  policy: Policy;
  /** `name@digest` of the policy's canonical form (version.ts). */
  version: string;
}
