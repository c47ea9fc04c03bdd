import { emptyEvidence, type ResultEvidence } from './evidence.js';
import type { Authority, Facet, FacetSlot, IdInfo, JobState, SuspectUser } from './facets.js';
import type { FacetRank } from './rank.js';

/**
 * Where a job's user id (and job type) came from, strongest first: our own registration, a signed
 * job_status answer that returned the job for that user, a trusted callback, an untrusted one. Only
 * the first two are facts; the others are claims that job_status must confirm.
 */
export const IDENTITY_SOURCES = ['registration', 'job_status', 'callback', 'untrusted'] as const;
export type IdentitySource = (typeof IDENTITY_SOURCES)[number];

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
  /** The rank of the ID and Smile Secure facets now filling their slots: what a new one must beat. */
  ranks: Partial<Record<Exclude<FacetSlot, 'result'>, FacetRank>>;
  /** The result's claims and evidence, from which the result fields above are derived (evidence.ts). */
  evidence: ResultEvidence;
  identity: IdentitySource | null;
  /** When the body that gave the identity was received (epoch ms): among equals the earliest wins. */
  identityAt: number | null;
  /** When a body last named another user than the identity (epoch ms), until job_status looks again. */
  identityConflictAt: number | null;
  /** When the first untrusted body for the job arrived (epoch ms): it buys one job_status check. */
  untrustedAt: number | null;
  /** Polled: registered, or known from a trusted body or from job_status. Untrusted bodies alone do not track a job. */
  tracked: boolean;
  /**
   * True exactly while evidence arrived that job_status has not settled yet: an unconfirmed result, a
   * demoted or contradicted claim, an unknown result code, an identity conflict or an untrusted body.
   */
  needsConfirmation: boolean;
  /** When the shown final result was first seen (the earliest arrival of a final result in its state). */
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
  /** A job_status answer that returned the job (a result or history naming it), not "no such job". */
  returnsJob?: boolean;
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
    evidence: emptyEvidence(),
    identity: null,
    identityAt: null,
    identityConflictAt: null,
    untrustedAt: null,
    tracked: false,
    needsConfirmation: false,
    finalizedAt: null,
  };
}
