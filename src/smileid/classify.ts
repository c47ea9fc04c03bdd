import type { Facet, FacetKind, IdInfo, IdInfoFacet, ResultFacet, SmileSecureFacet } from '../jobs/facets.js';
import {
  actionsSchema,
  type CallbackBody,
  callbackBodySchema,
  historyOverflows,
  jobStatusShapeSchema,
  overflowOf,
} from './payload.js';
import { categorizeResult, RESULT_CODES, SMILE_SECURE_CODES } from './result-codes.js';

/** What one body says, independent of whether it can be trusted. */
export interface ClassifiedBody {
  jobId: string | null;
  userId: string | null;
  jobType: number | null;
  smileJobIds: string[];
  kinds: FacetKind[];
  facets: Facet[];
  /**
   * What was too large to read (payload.ts caps), by path in the body: a list longer than its cap
   * (`Actions`, `Antifraud.SuspectUsers`, `UserIDsOfPreviousRegistrants`, a job_status `history`) or a
   * kept text field longer than MAX_KEPT_TEXT_LENGTH (`FullName`…); inside a job_status shape, prefixed
   * `result.` or `history.`. The unread part remains in the stored body. Empty when everything was read.
   */
  overflow: string[];
}

/** Actions that belong to ID verification, not to the biometric result (SPEC §2). */
const ID_ONLY_ACTIONS = new Set(['Verify_ID_Number', 'Return_Personal_Info']);
const ID_KEYS = ['IDNumber', 'IDType', 'FullName', 'DOB', 'Photo', 'FullData'] as const;
const BIOMETRIC_RESULT_TYPES = new Set(['SAIA', 'DIVA']);

/**
 * Sorts a body into facets (SPEC §2). Nothing in a body names its kind, so each facet is recognised by
 * its keys, and one body may carry several. A body with none is `unknown`: stored and flagged, never refused.
 */
export function classifyBody(body: Readonly<Record<string, unknown>>): ClassifiedBody {
  if ('job_complete' in body || 'job_success' in body) return classifyJobStatusShape(body);
  const callback = callbackBodySchema.parse(body);
  const facets = facetsOf(callback, callback.IsFinalResult);
  return {
    jobId: callback.PartnerParams?.job_id ?? null,
    userId: callback.PartnerParams?.user_id ?? null,
    jobType: callback.PartnerParams?.job_type ?? null,
    smileJobIds: callback.SmileJobID ? [callback.SmileJobID] : [],
    kinds: facets.length > 0 ? facets.map(kindOf) : ['unknown'],
    facets,
    overflow: overflowOf(body),
  };
}

/**
 * A job_status-shaped body: `result` is the current result (or a plain string before the job starts),
 * `job_complete` says whether it is final, and `history` holds the earlier callbacks, where the ID
 * facet may be the only place the ID authority's record appears.
 */
export function classifyJobStatusShape(body: Readonly<Record<string, unknown>>): ClassifiedBody {
  const status = jobStatusShapeSchema.parse(body);
  const result = isRecord(status.result) ? status.result : undefined;
  const current = result ? callbackBodySchema.parse(result) : undefined;
  const facets = (current ? facetsOf(current, status.job_complete ?? current.IsFinalResult) : []).map(
    (facet) =>
      facet.slot === 'result' ? settledByJobStatus(facet, status.job_complete, status.job_success) : facet,
  );
  const entries = status.history.filter(isRecord);
  const history = entries.map((entry) => callbackBodySchema.parse(entry));
  for (const parsed of history.reverse()) {
    for (const facet of facetsOf(parsed, parsed.IsFinalResult)) {
      if (!facets.some((existing) => existing.slot === facet.slot)) facets.push(facet);
    }
  }
  const everything = [current, ...history].filter((item) => item !== undefined);
  const partner = everything.find((item) => item.PartnerParams?.job_id)?.PartnerParams;
  return {
    jobId: partner?.job_id ?? null,
    userId: partner?.user_id ?? null,
    jobType: partner?.job_type ?? null,
    smileJobIds: [...new Set(everything.flatMap((item) => (item.SmileJobID ? [item.SmileJobID] : [])))],
    kinds: ['job_status', ...facets.map(kindOf)],
    facets,
    overflow: [
      ...new Set([
        ...(historyOverflows(body.history) ? ['history'] : []),
        ...(result ? overflowOf(result).map((name) => `result.${name}`) : []),
        ...entries.flatMap((entry) => overflowOf(entry).map((name) => `history.${name}`)),
      ]),
    ],
  };
}

function facetsOf(body: CallbackBody, isFinal: boolean | undefined): Facet[] {
  const actions = actionsSchema.parse(body.Actions);
  const actionNames = Object.keys(actions);
  const code = body.ResultCode;
  const isSmileSecureCode = code !== undefined && SMILE_SECURE_CODES.has(code);
  const isIdCode = code !== undefined && /^10\d\d$/.test(code);
  const hasBiometricActions = actionNames.some((name) => !ID_ONLY_ACTIONS.has(name));
  const hasOnlyIdActions = actionNames.length > 0 && !hasBiometricActions;

  const facets: Facet[] = [];
  // Biometric actions make a result even under an ID code (10xx): an ID number the authority cannot find
  // ends the whole job in one callback, and without a result facet the job would stay pending forever.
  const isResult =
    (hasBiometricActions || (BIOMETRIC_RESULT_TYPES.has(body.ResultType ?? '') && !isIdCode)) &&
    !isSmileSecureCode;
  if (isResult) facets.push(resultFacet(body, actions, isFinal));
  const isIdInfo =
    body.ResultType === 'ID Verification' ||
    ID_KEYS.some((key) => isPresent(body[key])) ||
    hasOnlyIdActions ||
    isIdCode;
  if (isIdInfo) facets.push(idInfoFacet(body));
  if (body.Antifraud !== undefined || isSmileSecureCode) facets.push(smileSecureFacet(body));
  return facets;
}

/**
 * A complete job's outcome is what job_status says of it (SPEC §3: authoritative): success approves it,
 * anything else rejects it, unless the result already reports a failure to process the job.
 */
function settledByJobStatus(facet: ResultFacet, complete?: boolean, success?: boolean): ResultFacet {
  if (complete !== true || success === undefined) return facet;
  const state = success ? 'approved' : facet.state === 'failed' ? 'failed' : 'rejected';
  return { ...facet, final: true, state };
}

function resultFacet(
  body: CallbackBody,
  actions: Record<string, string>,
  isFinal: boolean | undefined,
): ResultFacet {
  const code = body.ResultCode ?? null;
  const category = categorizeResult(code ?? undefined, actions);
  // Without IsFinalResult, a definite category is taken as final; a provisional one never is.
  const final = isFinal ?? category !== 'provisional';
  return {
    slot: 'result',
    final,
    smileJobId: body.SmileJobID ?? null,
    state: final ? category : 'provisional',
    resultCode: code,
    resultText: body.ResultText ?? (code ? (RESULT_CODES[code]?.text ?? null) : null),
    actions,
  };
}

function idInfoFacet(body: CallbackBody): IdInfoFacet {
  const idInfo: IdInfo = withoutUndefined({
    country: body.Country,
    idType: body.IDType,
    idNumber: body.IDNumber,
    secondaryIdNumber: body.Secondary_ID_Number ?? body.SecondaryIDNumber,
    fullName: body.FullName,
    dob: body.DOB,
    gender: body.Gender,
    address: body.Address,
    phoneNumber: body.PhoneNumber,
    phoneNumber2: body.PhoneNumber2,
    expirationDate: body.ExpirationDate,
    issuanceDate: body.IssuanceDate,
    fullData: isPresent(body.FullData) ? body.FullData : undefined,
    photoProvided: body.Photo !== undefined,
    documentProvided: body.Document !== undefined,
  });
  return {
    slot: 'idInfo',
    final: true,
    idInfo,
    previouslyRegistered: body.IDNumberPreviouslyRegistered ?? null,
    previousRegistrantUserIds: [...new Set(body.UserIDsOfPreviousRegistrants)].sort(),
  };
}

function smileSecureFacet(body: CallbackBody): SmileSecureFacet {
  const code =
    body.ResultCode !== undefined && SMILE_SECURE_CODES.has(body.ResultCode) ? body.ResultCode : null;
  const suspects = new Map((body.Antifraud?.SuspectUsers ?? []).map((suspect) => [suspect.userId, suspect]));
  return {
    slot: 'smileSecure',
    final: true,
    code,
    suspectUsers: [...suspects.values()].sort((a, b) => a.userId.localeCompare(b.userId)),
  };
}

function kindOf(facet: Facet): FacetKind {
  return ({ result: 'result', idInfo: 'id_info', smileSecure: 'smile_secure' } as const)[facet.slot];
}

/** Smile ID sends "Not Available" for a missing value (SPEC §2): such a key carries no ID data. */
function isPresent(value: unknown): boolean {
  return value !== undefined && value !== null && value !== 'Not Available';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter((entry) => entry[1] !== undefined)) as T;
}
