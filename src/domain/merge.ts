import {
  claimStanding,
  finalizedAt,
  holdResult,
  lastStatusFetch,
  MAX_MISSES,
  noteMiss,
  noteStatusFetch,
  shownResult,
} from './evidence.js';
import type { IdInfo, IdInfoFacet, JobState, SmileSecureFacet } from './facets.js';
import { mergeIdentity } from './identity.js';
import { emptyOutcome, type JobOutcome, type Observation } from './outcome.js';
import { type FacetRank, outranks } from './rank.js';
import { RESULT_CODES } from './result-codes.js';
import { combineSmileSecure } from './smile-secure.js';

export interface Transition {
  fromState: JobState | null;
  toState: JobState;
  fromFinal: boolean | null;
  toFinal: boolean;
}

/**
 * Folds one observation into a job's outcome. Results are kept as claims (callbacks) and evidence
 * (job_status) and the shown result is derived from both (evidence.ts); the ID record and Smile Secure
 * slots keep their highest-ranked facet (rank.ts); sets are unioned. Every part is a maximum, a minimum
 * or a union, so the outcome does not depend on the order observations arrive in or how often. An
 * untrusted observation applies no facet: it can only ask job_status to look.
 */
export function mergeObservation(current: JobOutcome | undefined, observation: Observation): JobOutcome {
  const base = current ?? emptyOutcome(observation.jobId);
  const receivedAt = observation.receivedAt.getTime();
  const merged: JobOutcome = { ...base, ...mergeIdentity(base, observation) };
  if (!observation.trusted) {
    merged.untrustedAt = Math.min(base.untrustedAt ?? receivedAt, receivedAt);
    return derive(merged);
  }
  const fromJobStatus = observation.authority === 'job_status';
  merged.tracked = base.tracked || !fromJobStatus || observation.returnsJob === true;
  merged.smileJobIds = [...new Set([...base.smileJobIds, ...observation.smileJobIds])].sort();
  let evidence = fromJobStatus ? noteStatusFetch(base.evidence, receivedAt) : base.evidence;
  if (fromJobStatus && observation.returnsJob !== true) evidence = noteMiss(evidence, receivedAt);
  for (const facet of observation.facets) {
    const rank: FacetRank = {
      final: facet.final,
      authority: observation.authority,
      at: observation.at,
      hash: observation.hash,
    };
    if (facet.slot === 'result') {
      evidence = holdResult(evidence, { facet, rank, receivedAt }, fromJobStatus);
    } else if (facet.slot === 'idInfo') {
      const record = mergeIdRecord(merged, evidence, facet, rank);
      Object.assign(merged, record.fields);
      evidence = record.evidence;
    } else if (
      facet.slot === 'smileSecure' &&
      !fromJobStatus &&
      merged.ranks.smileSecure?.authority === 'callback'
    ) {
      Object.assign(merged, unionOfClaims(merged, facet));
      if (outranks(rank, merged.ranks.smileSecure)) merged.ranks = { ...merged.ranks, smileSecure: rank };
    } else if (outranks(rank, merged.ranks.smileSecure)) {
      Object.assign(merged, fill(facet));
      merged.ranks = { ...merged.ranks, smileSecure: rank };
    }
  }
  merged.evidence = evidence;
  return derive(merged);
}

/** The result fields, confirmation, finalisation time and needsConfirmation, from what the job holds. */
function derive(outcome: JobOutcome): JobOutcome {
  const shown = shownResult(outcome.evidence);
  const facet = shown.held?.facet;
  const finalized = finalizedAt(outcome.evidence, shown);
  // A job only bodies named, for whom job_status keeps not finding it, is not polled any longer: a captured
  // signature pair must not buy a week of polling for every job id an attacker makes up.
  const unclaimed =
    (outcome.identity === 'callback' || outcome.identity === 'untrusted') &&
    (outcome.evidence.misses?.length ?? 0) >= MAX_MISSES;
  const derived: JobOutcome = {
    ...outcome,
    tracked: outcome.tracked && !unclaimed,
    smileJobId: facet?.smileJobId ?? null,
    state: facet?.state ?? 'pending',
    isFinal: facet?.final ?? false,
    confirmed: shown.confirmed,
    resultCode: facet?.resultCode ?? null,
    resultText: facet?.resultText ?? null,
    actions: facet?.actions ?? null,
    finalizedAt: finalized === null ? null : new Date(finalized),
  };
  derived.needsConfirmation = needsConfirmation(derived);
  return derived;
}

/** True while evidence has arrived that job_status has not settled; false once final and confirmed. */
export function needsConfirmation(outcome: JobOutcome): boolean {
  if (outcome.isFinal && outcome.confirmed) return false;
  const { evidence } = outcome;
  const lastLook = lastStatusFetch(evidence);
  const standing = claimStanding(evidence);
  const unsettledClaim =
    (standing !== undefined && standing !== 'confirmed') ||
    (evidence.claims.provisional?.receivedAt ?? Number.NEGATIVE_INFINITY) > lastLook;
  const unconfirmedIdentity =
    outcome.tracked && (outcome.identity === 'callback' || outcome.identity === 'untrusted');
  const unknownCode = outcome.resultCode !== null && RESULT_CODES[outcome.resultCode] === undefined;
  return (
    unsettledClaim ||
    unconfirmedIdentity ||
    unknownCode ||
    (outcome.identityConflictAt ?? Number.NEGATIVE_INFINITY) > lastLook ||
    (outcome.userId !== null && (outcome.untrustedAt ?? Number.NEGATIVE_INFINITY) > lastLook)
  );
}

/** The outcome fields a Smile Secure facet fills when it wins its slot. */
function fill(facet: SmileSecureFacet): Partial<JobOutcome> {
  return { suspectUsers: facet.suspectUsers, smileSecureCode: facet.code };
}

/**
 * The ID record and its risk facts. A body that lacks a field never erases it: each field keeps the value
 * of the highest-ranked body that carried it. Whether the ID number was registered before is a risk fact:
 * any trusted body may raise it (and add previous registrants), and only a job_status answer that states
 * it decides it, after which callbacks no longer change it.
 */
function mergeIdRecord(
  outcome: JobOutcome,
  evidence: JobOutcome['evidence'],
  facet: IdInfoFacet,
  rank: FacetRank,
): { fields: Partial<JobOutcome>; evidence: JobOutcome['evidence'] } {
  const fieldRanks = { ...evidence.idFieldRanks };
  const record: Record<string, unknown> = { ...outcome.idInfo };
  for (const [field, value] of Object.entries(facet.idInfo)) {
    if (typeof value === 'boolean') {
      record[field] = record[field] === true || value; // photoProvided, documentProvided
    } else if (outranks(rank, fieldRanks[field])) {
      record[field] = value;
      fieldRanks[field] = rank;
    }
  }
  const states =
    rank.authority === 'job_status' &&
    facet.previouslyRegistered !== null &&
    outranks(rank, evidence.idRiskRank);
  const risk: Partial<JobOutcome> = states
    ? {
        idNumberPreviouslyRegistered: facet.previouslyRegistered,
        previousRegistrantUserIds: facet.previousRegistrantUserIds,
      }
    : evidence.idRiskRank
      ? {}
      : {
          idNumberPreviouslyRegistered: strongest(
            outcome.idNumberPreviouslyRegistered,
            facet.previouslyRegistered,
          ),
          previousRegistrantUserIds: [
            ...new Set([...outcome.previousRegistrantUserIds, ...facet.previousRegistrantUserIds]),
          ].sort(),
        };
  return {
    fields: {
      idInfo: record as unknown as IdInfo,
      ...risk,
      ...(outranks(rank, outcome.ranks.idInfo) ? { ranks: { ...outcome.ranks, idInfo: rank } } : {}),
    },
    evidence: { ...evidence, idFieldRanks: fieldRanks, ...(states ? { idRiskRank: rank } : {}) },
  };
}

/** Unknown, then no, then yes: a known fact is never erased by a body that lacks it. */
function strongest(a: boolean | null, b: boolean | null): boolean | null {
  if (a === true || b === true) return true;
  return a ?? b;
}

/**
 * Until job_status speaks, Smile Secure callbacks accumulate: a body claiming "no suspects" cannot
 * clear suspects another body reported, so a borrowed signature can add risk but never remove it.
 */
function unionOfClaims(outcome: JobOutcome, facet: SmileSecureFacet): Partial<JobOutcome> {
  const combined = combineSmileSecure([
    { code: outcome.smileSecureCode, suspectUsers: outcome.suspectUsers },
    facet,
  ]);
  return { suspectUsers: combined.suspectUsers, smileSecureCode: combined.code };
}

/** The change of (state, isFinal) between two versions of a job, if there is one. */
export function transitionBetween(before: JobOutcome | undefined, after: JobOutcome): Transition | undefined {
  if (before && before.state === after.state && before.isFinal === after.isFinal) return undefined;
  return {
    fromState: before?.state ?? null,
    toState: after.state,
    fromFinal: before?.isFinal ?? null,
    toFinal: after.isFinal,
  };
}
