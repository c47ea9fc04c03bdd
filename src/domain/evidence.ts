import type { ResultFacet } from './facets.js';
import { compareRanks, type FacetRank } from './rank.js';

/**
 * Claims and evidence about a job's result. A callback's signature covers only a timestamp, never the
 * body, so a callback is a claim; a signed job_status answer that we fetched ourselves is evidence.
 * Each kind is kept as the best of its own (a maximum, so the order of arrival does not matter), and
 * what the job shows is derived from both: evidence fetched after a claim was received outranks that
 * claim whatever its final flag says, and Smile ID's own final result never goes back.
 */

/** A result facet kept with its rank and when we received it (epoch milliseconds). */
export interface HeldResult {
  facet: ResultFacet;
  rank: FacetRank;
  receivedAt: number;
}

export interface ResultEvidence {
  /** The best callback result of each finality. */
  claims: { provisional?: HeldResult; final?: HeldResult };
  /** The best job_status result (final first, then the newer). */
  status?: HeldResult;
  /** When we last fetched job_status answers for the job, newest first; two are enough to judge a claim. */
  statusFetches: number[];
  /**
   * The rank of the job_status answer that stated whether the ID number was registered before: once one
   * has, callbacks no longer decide it, and a lower-ranked answer does not either.
   */
  idRiskRank?: FacetRank;
  /**
   * When job_status answers did not return the job for the user a body named (newest first, at most
   * MAX_MISSES): after that many, a job we never registered is no longer polled.
   */
  misses?: number[];
  /** The rank of the body each field of the ID record came from, so each field keeps its best source. */
  idFieldRanks?: Record<string, FacetRank>;
}

/**
 * Where the best final claim stands against job_status. `demoted`: one answer fetched after it did not
 * say final yet (Smile ID may lag its own callback by moments); `contradicted`: a second one still did
 * not, or a final answer says otherwise.
 */
export type ClaimStanding = 'unconfirmed' | 'confirmed' | 'demoted' | 'contradicted';

const REMEMBERED_FETCHES = 2;

/**
 * How long after a first look that did not confirm a final claim the second look comes: Smile ID may send
 * a callback moments before its job_status shows the same, so only a look this much later contradicts.
 */
export const SECOND_LOOK_AFTER_MS = 5000;

/** job_status answers that do not return a job nobody registered, before it is no longer polled. */
export const MAX_MISSES = 3;

/** Records a job_status answer that did not return the job, by when it was fetched. */
export function noteMiss(evidence: ResultEvidence, fetchedAt: number): ResultEvidence {
  const misses = [...new Set([fetchedAt, ...(evidence.misses ?? [])])]
    .sort((a, b) => b - a)
    .slice(0, MAX_MISSES);
  return { ...evidence, misses };
}

export function emptyEvidence(): ResultEvidence {
  return { claims: {}, statusFetches: [] };
}

/** Folds one trusted result facet in, as a claim or as evidence. */
export function holdResult(
  evidence: ResultEvidence,
  candidate: HeldResult,
  fromJobStatus: boolean,
): ResultEvidence {
  if (fromJobStatus) {
    return better(candidate, evidence.status) ? { ...evidence, status: candidate } : evidence;
  }
  const finality = candidate.facet.final ? 'final' : 'provisional';
  return better(candidate, evidence.claims[finality])
    ? { ...evidence, claims: { ...evidence.claims, [finality]: candidate } }
    : evidence;
}

/** Records that a job_status answer was fetched at `fetchedAt`, whatever it held. */
export function noteStatusFetch(evidence: ResultEvidence, fetchedAt: number): ResultEvidence {
  const fetches = [...new Set([fetchedAt, ...evidence.statusFetches])]
    .sort((a, b) => b - a)
    .slice(0, REMEMBERED_FETCHES);
  return { ...evidence, statusFetches: fetches };
}

export function lastStatusFetch(evidence: ResultEvidence): number {
  return evidence.statusFetches[0] ?? Number.NEGATIVE_INFINITY;
}

export function claimStanding(evidence: ResultEvidence): ClaimStanding | undefined {
  const claim = evidence.claims.final;
  if (!claim) return undefined;
  const { status } = evidence;
  if (status?.facet.final) return status.facet.state === claim.facet.state ? 'confirmed' : 'contradicted';
  const looksSince = evidence.statusFetches.filter((at) => at >= claim.receivedAt);
  if (looksSince.length === 0) return 'unconfirmed';
  // Two looks moments apart (another callback's check, say) are one look: Smile ID may still be catching up.
  const [newest = 0, older = 0] = looksSince;
  return looksSince.length > 1 && newest - older >= SECOND_LOOK_AFTER_MS ? 'contradicted' : 'demoted';
}

export interface ShownResult {
  held: HeldResult | undefined;
  /** The result shown is job_status's own. */
  confirmed: boolean;
}

/**
 * The result a job shows: Smile ID's final job_status result once there is one; else a final claim
 * that no job_status answer has yet looked at; else a provisional claim newer than the last answer;
 * else the best job_status result; else whatever provisional claim there is.
 */
export function shownResult(evidence: ResultEvidence): ShownResult {
  const { status, claims } = evidence;
  if (status?.facet.final) return { held: status, confirmed: true };
  if (claims.final && claimStanding(evidence) === 'unconfirmed')
    return { held: claims.final, confirmed: false };
  const freshProvisional = claims.provisional && claims.provisional.receivedAt > lastStatusFetch(evidence);
  if (freshProvisional || !status) return { held: claims.provisional, confirmed: false };
  return { held: status, confirmed: true };
}

/** When the shown final result was first seen: the earliest arrival of a final result in its state. */
export function finalizedAt(evidence: ResultEvidence, shown: ShownResult): number | null {
  const { held } = shown;
  if (!held?.facet.final) return null;
  const agreeing = [evidence.status, evidence.claims.final].filter(
    (candidate): candidate is HeldResult =>
      candidate?.facet.final === true && candidate.facet.state === held.facet.state,
  );
  return Math.min(...agreeing.map((candidate) => candidate.receivedAt));
}

/** The higher rank; for the same result seen twice, its first arrival, so the order does not matter. */
function better(candidate: HeldResult, incumbent: HeldResult | undefined): boolean {
  if (incumbent === undefined) return true;
  const order = compareRanks(candidate.rank, incumbent.rank);
  return order > 0 || (order === 0 && candidate.receivedAt < incumbent.receivedAt);
}
