import type { Facet, JobState } from './facets.js';
import { emptyOutcome, type JobOutcome, type Observation } from './outcome.js';
import { type FacetRank, outranks } from './rank.js';

export interface Transition {
  fromState: JobState | null;
  toState: JobState;
  fromFinal: boolean | null;
  toFinal: boolean;
}

/**
 * Folds one observation into a job's outcome. Each slot keeps the highest-ranked facet ever seen
 * (see rank.ts), sets are unioned and `finalizedAt` is a minimum, so merging is order-independent and
 * idempotent, and a final outcome never becomes provisional again. An untrusted observation changes
 * nothing but the flag that asks job_status to confirm the job.
 */
export function mergeObservation(current: JobOutcome | undefined, observation: Observation): JobOutcome {
  const base = current ?? emptyOutcome(observation.jobId);
  const userIdConflict =
    base.userId !== null && observation.userId !== null && base.userId !== observation.userId;
  // Identity learnt only from untrusted bodies (no trusted facet applied yet) gives way to the first
  // trusted observation that names one: a stale or replayed body must not fix whom the job is polled for.
  const identityUnverified = Object.keys(base.ranks).length === 0;
  const preferObservation = observation.trusted && identityUnverified;
  const merged: JobOutcome = {
    ...base,
    userId: preferObservation ? (observation.userId ?? base.userId) : (base.userId ?? observation.userId),
    jobType: preferObservation
      ? (observation.jobType ?? base.jobType)
      : (base.jobType ?? observation.jobType),
    needsConfirmation: base.needsConfirmation || userIdConflict || !observation.trusted,
  };
  if (!observation.trusted) return merged;

  merged.smileJobIds = [...new Set([...base.smileJobIds, ...observation.smileJobIds])].sort();
  for (const facet of observation.facets) {
    const rank: FacetRank = {
      final: facet.final,
      authority: observation.authority,
      at: observation.at,
      hash: observation.hash,
    };
    if (outranks(rank, merged.ranks[facet.slot])) {
      Object.assign(merged, fill(facet));
      merged.ranks = { ...merged.ranks, [facet.slot]: rank };
    }
    if (facet.slot === 'result' && facet.final) {
      merged.finalizedAt = earliest(merged.finalizedAt, observation.receivedAt);
    }
  }
  merged.confirmed = merged.ranks.result?.authority === 'job_status';
  return merged;
}

/** The outcome fields a facet fills when it wins its slot. */
function fill(facet: Facet): Partial<JobOutcome> {
  switch (facet.slot) {
    case 'result':
      return {
        smileJobId: facet.smileJobId,
        state: facet.state,
        isFinal: facet.final,
        resultCode: facet.resultCode,
        resultText: facet.resultText,
        actions: facet.actions,
      };
    case 'idInfo':
      return {
        idInfo: facet.idInfo,
        idNumberPreviouslyRegistered: facet.previouslyRegistered,
        previousRegistrantUserIds: facet.previousRegistrantUserIds,
      };
    case 'smileSecure':
      return { suspectUsers: facet.suspectUsers, smileSecureCode: facet.code };
  }
}

function earliest(current: Date | null, candidate: Date): Date {
  return current === null || candidate < current ? candidate : current;
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
