/**
 * The domain's vocabulary: what a job's outcome is made of. A callback (or a job_status response)
 * carries one or more facets; each fills one slot of the outcome.
 */

export const JOB_STATES = ['pending', 'provisional', 'approved', 'rejected', 'failed'] as const;
export type JobState = (typeof JOB_STATES)[number];

/** The ID authority's record (PII). Photos are not copied here: they stay in the stored event body. */
export interface IdInfo {
  country?: string;
  idType?: string;
  idNumber?: string;
  secondaryIdNumber?: string;
  fullName?: string;
  dob?: string;
  gender?: string;
  address?: string;
  phoneNumber?: string;
  phoneNumber2?: string;
  expirationDate?: string;
  issuanceDate?: string;
  fullData?: unknown;
  photoProvided: boolean;
  documentProvided: boolean;
}

export interface SuspectUser {
  userId: string;
  reason: string | null;
}

export interface ResultFacet {
  slot: 'result';
  final: boolean;
  smileJobId: string | null;
  state: Exclude<JobState, 'pending'>;
  resultCode: string | null;
  resultText: string | null;
  actions: Record<string, string>;
  /** `SAIA`, `DIVA`, … as Smile ID sent it. */
  resultType?: string | null;
  confidenceValue?: number | null;
  isMachineResult?: boolean | null;
  /** The PartnerParams keys beyond job_id, user_id and job_type: the partner's own, as strings. */
  partnerParams?: Record<string, string>;
}

export interface IdInfoFacet {
  slot: 'idInfo';
  final: boolean;
  idInfo: IdInfo;
  previouslyRegistered: boolean | null;
  previousRegistrantUserIds: string[];
}

export interface SmileSecureFacet {
  slot: 'smileSecure';
  final: boolean;
  code: string | null;
  suspectUsers: SuspectUser[];
}

export type Facet = ResultFacet | IdInfoFacet | SmileSecureFacet;
export type FacetSlot = Facet['slot'];

/** How a body was classified, for storage and metrics: its facets, plus `job_status` or `unknown`. */
export type FacetKind = 'result' | 'id_info' | 'smile_secure' | 'job_status' | 'unknown';

/** Where an observation came from; a fetched, signed job_status outranks any callback. */
export type Authority = 'callback' | 'job_status';
