import { shownResult } from '../evidence.js';
import type { JobState } from '../facets.js';
import type { JobOutcome } from '../outcome.js';
import { RESULT_CODES } from '../result-codes.js';
import { smileSecureView } from '../smile-secure.js';
import type { PreviouslyRegistered, SmileSecureMeaning } from './policy.js';

/**
 * What a policy's conditions read of a job: its merged outcome, without identity data, and what our own
 * registration or submission said of it. Everything here is also in what the API shows; nothing of the ID
 * authority's record (names, numbers, dates, photos) is, so a policy can be replayed over stored jobs
 * without opening any.
 */
export interface DecisionFacts {
  state: JobState;
  isFinal: boolean;
  /** The result shown is Smile ID's own signed job_status answer. */
  confirmed: boolean;
  /** The horizon passed before Smile ID's result was final and confirmed: the service stopped asking. */
  stale: boolean;
  resultCode: string | null;
  /** The code is in Smile ID's documented table as an outcome (a Smile Secure code is not one). */
  resultCodeKnown: boolean;
  actions: Readonly<Record<string, string>>;
  jobType: number | null;
  /** From our registration (POST /v1/jobs) or submission, never from a callback. */
  idType: string | null;
  country: string | null;
  previouslyRegisteredByOthers: PreviouslyRegistered;
  /** The users other than this job's that registered its ID number before, as Smile ID listed them. */
  otherRegistrantUserIds: string[];
  smileSecure: SmileSecureMeaning;
  suspectUserIds: string[];
  confidenceValue: number | null;
  /**
   * The risk facts above that only callbacks have stated: no job_status answer has confirmed them, so
   * no decision but `review` or `pending` may rest on them (decide.ts).
   */
  claimed: ClaimedFact[];
}

/**
 * The facts a callback can state that job_status may never confirm. Whether the ID number was registered
 * before is confirmed once a job_status answer states it (an ID-information entry of its `history`);
 * Smile Secure's signal once its `history` carries the Smile Secure callback, which Smile ID does not
 * promise: it may only ever arrive by callback, and then it stays a claim.
 */
export const CLAIMABLE_FACTS = ['previouslyRegisteredByOthers', 'smileSecure'] as const;
export type ClaimedFact = (typeof CLAIMABLE_FACTS)[number];

/** What the job's row says beside its outcome. */
export interface DecisionContext {
  idType: string | null;
  country: string | null;
  stale: boolean;
}

export function decisionFacts(outcome: JobOutcome, context: DecisionContext): DecisionFacts {
  const shown = shownResult(outcome.evidence).held?.facet;
  const known = outcome.resultCode === null ? undefined : RESULT_CODES[outcome.resultCode];
  const others = outcome.previousRegistrantUserIds.filter((userId) => userId !== outcome.userId);
  const secure = smileSecureView({ code: outcome.smileSecureCode, suspectUsers: outcome.suspectUsers });
  return {
    state: outcome.state,
    isFinal: outcome.isFinal,
    confirmed: outcome.confirmed,
    stale: context.stale,
    resultCode: outcome.resultCode,
    resultCodeKnown: known !== undefined && known.category !== 'fraud_signal',
    actions: outcome.actions ?? {},
    jobType: outcome.jobType,
    idType: context.idType,
    country: context.country,
    previouslyRegisteredByOthers: previouslyRegisteredByOthers(outcome, others),
    otherRegistrantUserIds: others,
    smileSecure: secure?.meaning ?? 'none',
    suspectUserIds: outcome.suspectUsers.map((suspect) => suspect.userId),
    confidenceValue: shown?.confidenceValue ?? null,
    claimed: claimedFacts(outcome),
  };
}

/**
 * Which risk facts a callback stated and job_status has not: the registration facts until a job_status
 * answer stated them (merge.ts records its rank), Smile Secure while a callback's signal fills its slot.
 */
function claimedFacts(outcome: JobOutcome): ClaimedFact[] {
  const claimed: ClaimedFact[] = [];
  const registrationStated =
    outcome.idNumberPreviouslyRegistered !== null || outcome.previousRegistrantUserIds.length > 0;
  if (registrationStated && outcome.evidence.idRiskRank === undefined) {
    claimed.push('previouslyRegisteredByOthers');
  }
  if (outcome.ranks.smileSecure?.authority === 'callback') claimed.push('smileSecure');
  return claimed;
}

/** The facts as they would be had no callback stated what job_status has not confirmed. */
export function withoutClaims(facts: DecisionFacts): DecisionFacts {
  const unclaimed: DecisionFacts = { ...facts, claimed: [] };
  if (facts.claimed.includes('previouslyRegisteredByOthers')) {
    unclaimed.previouslyRegisteredByOthers = 'unknown';
    unclaimed.otherRegistrantUserIds = [];
  }
  if (facts.claimed.includes('smileSecure')) {
    unclaimed.smileSecure = 'none';
    unclaimed.suspectUserIds = [];
  }
  return unclaimed;
}

/**
 * Smile ID lists the users that registered an ID number before, and the same user enrolling again is not
 * another. A number flagged as registered before with nobody listed is counted as registered by another:
 * who it was is not known, and that it was the same user is not either.
 */
function previouslyRegisteredByOthers(outcome: JobOutcome, others: string[]): PreviouslyRegistered {
  const flag = outcome.idNumberPreviouslyRegistered;
  if (others.length > 0) return true;
  if (flag === null) return 'unknown';
  return flag && outcome.previousRegistrantUserIds.length === 0;
}
