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
}

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
  };
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
