import type { Authority, Facet, FacetSlot, IdInfo, JobState, SuspectUser } from './facets.js';
import type { FacetRank } from './rank.js';

/** A job's merged outcome: what the service knows and serves about one verification job. */
export interface JobOutcome {
  jobId: string;
  userId: string | null;
  jobType: number | null;
  /** Smile ID's id for the run whose result won (a job_id can be resubmitted). */
  smileJobId: string | null;
  smileJobIds: string[];
  state: JobState;
  isFinal: boolean;
  /** The winning result came from a signed job_status response that we fetched ourselves. */
  confirmed: boolean;
  resultCode: string | null;
  resultText: string | null;
  actions: Record<string, string> | null;
  idInfo: IdInfo | null;
  idNumberPreviouslyRegistered: boolean | null;
  previousRegistrantUserIds: string[];
  suspectUsers: SuspectUser[];
  smileSecureCode: string | null;
  /** The rank of the facet now filling each slot: what a new facet must beat. */
  ranks: Partial<Record<FacetSlot, FacetRank>>;
  /** A callback was stored but not applied (stale, replayed or contradictory): ask job_status. */
  needsConfirmation: boolean;
  /** When the job was first seen final (the earliest final result's arrival). */
  finalizedAt: Date | null;
}

/** One body's worth of facts about a job, with where it came from and whether it may be applied. */
export interface Observation {
  jobId: string;
  userId: string | null;
  jobType: number | null;
  smileJobIds: string[];
  facets: Facet[];
  authority: Authority;
  /** The body's own timestamp, epoch milliseconds. */
  at: number;
  hash: string;
  receivedAt: Date;
  trusted: boolean;
}

export function emptyOutcome(jobId: string): JobOutcome {
  return {
    jobId,
    userId: null,
    jobType: null,
    smileJobId: null,
    smileJobIds: [],
    state: 'pending',
    isFinal: false,
    confirmed: false,
    resultCode: null,
    resultText: null,
    actions: null,
    idInfo: null,
    idNumberPreviouslyRegistered: null,
    previousRegistrantUserIds: [],
    suspectUsers: [],
    smileSecureCode: null,
    ranks: {},
    needsConfirmation: false,
    finalizedAt: null,
  };
}
