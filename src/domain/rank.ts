import type { Authority } from './facets.js';

/**
 * The rank that decides which facet fills a slot. Taking the maximum is commutative, associative and
 * idempotent, so a job's outcome does not depend on the order callbacks arrive in or how often.
 * Order: a final result beats a provisional one (so nothing goes backwards), then Smile ID's own
 * job_status beats a callback, then the newer timestamp, then the content hash (a deterministic tiebreak).
 */
export interface FacetRank {
  final: boolean;
  authority: Authority;
  /** The observation's own timestamp, epoch milliseconds. */
  at: number;
  hash: string;
}

const AUTHORITY_ORDER: Readonly<Record<Authority, number>> = { callback: 0, job_status: 1 };

export function compareRanks(a: FacetRank, b: FacetRank): number {
  return (
    Number(a.final) - Number(b.final) ||
    AUTHORITY_ORDER[a.authority] - AUTHORITY_ORDER[b.authority] ||
    a.at - b.at ||
    (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0)
  );
}

export function outranks(candidate: FacetRank, incumbent: FacetRank | undefined): boolean {
  return incumbent === undefined || compareRanks(candidate, incumbent) > 0;
}
