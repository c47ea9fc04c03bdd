import type {
  Facet,
  FacetKind,
  IdInfo,
  IdInfoFacet,
  ResultFacet,
  SmileSecureFacet,
} from '../domain/facets.js';
import { categorizeResult, RESULT_CODES, SMILE_SECURE_CODES } from '../domain/result-codes.js';
import { combineSmileSecure } from '../domain/smile-secure.js';
import { isRecord } from '../util/is-record.js';
import {
  actionsSchema,
  type CallbackBody,
  callbackBodySchema,
  historyOverflows,
  isAbsent,
  type JobStatusShape,
  jobStatusShapeSchema,
  MAX_ACTIONS,
  overflowOf,
} from './payload.js';

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

/** Actions that belong to ID verification, not to the biometric result (docs/smile-id.md#callback-kinds). */
const ID_ONLY_ACTIONS = new Set(['Verify_ID_Number', 'Return_Personal_Info']);
const ID_KEYS = ['IDNumber', 'IDType', 'FullName', 'DOB', 'Photo', 'FullData'] as const;
const BIOMETRIC_RESULT_TYPES = new Set(['SAIA', 'DIVA']);

/**
 * Sorts a body into facets (docs/smile-id.md#callback-kinds). Nothing in a body names its kind, so each facet is recognised by
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
 * A job_status-shaped body (docs/smile-id.md#job-status-api): `result` is the latest result (an object, or a plain string before
 * the job starts), `job_complete` says whether it is final, `job_success` whether it passed, and `history`
 * holds the callbacks sent so far, in an order the SDKs disagree on. So entries are read by their own
 * finality and content, never by position, and the facts they carry are gathered from all of them.
 */
export function classifyJobStatusShape(body: Readonly<Record<string, unknown>>): ClassifiedBody {
  const status = jobStatusShapeSchema.parse(body);
  const result = isRecord(status.result) ? status.result : undefined;
  const current = result ? callbackBodySchema.parse(result) : undefined;
  const entries = status.history.filter(isRecord);
  const history = entries.map((entry) => callbackBodySchema.parse(entry));
  const everything = [current, ...history].filter((item) => item !== undefined);
  const resultFacets = everything.flatMap((entry) =>
    facetsOf(entry, entry.IsFinalResult).filter((facet) => facet.slot === 'result'),
  );
  const chosen = settledResult(pickResult(resultFacets, current), current, status);
  const facets: Facet[] = [
    ...(chosen ? [chosen] : []),
    ...gatheredFacts(everything.flatMap((entry) => facetsOf(entry, entry.IsFinalResult))),
  ];
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

/**
 * The entry that speaks for the job's result, whatever its position: a final one over a provisional
 * one, a known code over an unknown one, a code over none; `result` breaks a tie, then the code itself.
 */
function pickResult(
  candidates: readonly Facet[],
  current: CallbackBody | undefined,
): ResultFacet | undefined {
  const score = (facet: ResultFacet) => [
    Number(facet.final),
    Number(facet.resultCode !== null && RESULT_CODES[facet.resultCode] !== undefined),
    Number(facet.resultCode !== null),
    Number(current !== undefined && facet.resultCode === (current.ResultCode ?? null)),
  ];
  let best: ResultFacet | undefined;
  for (const facet of candidates) {
    if (facet.slot !== 'result') continue;
    if (!best) {
      best = facet;
      continue;
    }
    const [a, b] = [score(facet), score(best)];
    const order = a.findIndex((value, index) => value !== b[index]);
    const better = order === -1 ? (facet.resultCode ?? '') > (best.resultCode ?? '') : a[order]! > b[order]!;
    if (better) best = facet;
  }
  return best;
}

/**
 * What job_status says of the result. A complete job is never pending: its state is its final code's
 * category where the code is known, else `job_success` decides (failed only for a general-failure
 * code). A complete job whose `result` names no biometric action (the Node SDK's `{ResultCode, ResultText}`)
 * still has a result, made from `result` and the answer's own `code`.
 */
function settledResult(
  picked: ResultFacet | undefined,
  current: CallbackBody | undefined,
  status: JobStatusShape,
): ResultFacet | undefined {
  const complete = status.job_complete;
  if (complete === false) {
    // Not complete: whatever `result` says is provisional, even a bare code without Actions.
    const coded = current?.ResultCode === undefined ? undefined : bareResult(current, false);
    const provisional = picked ?? coded;
    return provisional && { ...provisional, final: false, state: 'provisional' };
  }
  if (complete !== true) return picked;
  const base = picked ?? bareResult(current, true);
  const known = base.resultCode === null ? undefined : RESULT_CODES[base.resultCode];
  const fromCode = known && known.category !== 'fraud_signal' ? known.category : undefined;
  const fromSuccess =
    status.job_success === undefined ? base.state : status.job_success ? 'approved' : 'rejected';
  return {
    ...base,
    final: true,
    state: fromCode ?? fromSuccess,
    resultText: base.resultText ?? known?.text ?? null,
  };
}

/** A result made from `result` alone, when no entry carries the Actions that would make it one. */
function bareResult(current: CallbackBody | undefined, final: boolean): ResultFacet {
  return withResultDetails(
    {
      slot: 'result',
      final,
      smileJobId: current?.SmileJobID ?? null,
      state: 'provisional',
      resultCode: current?.ResultCode ?? null,
      resultText: current?.ResultText ?? null,
      actions: actionsSchema.parse(current?.Actions),
    },
    current,
  );
}

/**
 * The ID record and the risk facts of every entry, as one facet each: ID fields from every entry (a
 * record with more of them first), a previously registered ID if any entry says so, every previous
 * registrant and every suspect.
 */
function gatheredFacts(facets: readonly Facet[]): Facet[] {
  const ids = facets.filter((facet) => facet.slot === 'idInfo');
  const secure = facets.filter((facet) => facet.slot === 'smileSecure');
  const gathered: Facet[] = [];
  if (ids.length > 0) {
    const bySize = [...ids].sort((a, b) => Object.keys(a.idInfo).length - Object.keys(b.idInfo).length);
    const flags = ids.map((facet) => facet.previouslyRegistered);
    gathered.push({
      slot: 'idInfo',
      final: true,
      idInfo: Object.assign({}, ...bySize.map((facet) => facet.idInfo)),
      previouslyRegistered: flags.includes(true) ? true : flags.includes(false) ? false : null,
      previousRegistrantUserIds: [...new Set(ids.flatMap((facet) => facet.previousRegistrantUserIds))].sort(),
    });
  }
  if (secure.length > 0) gathered.push({ slot: 'smileSecure', final: true, ...combineSmileSecure(secure) });
  return gathered;
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

function resultFacet(
  body: CallbackBody,
  actions: Record<string, string>,
  isFinal: boolean | undefined,
): ResultFacet {
  const code = body.ResultCode ?? null;
  // Actions past their cap were not read: a failed one may be among them, so such a result decides nothing.
  const unread = isRecord(body.Actions) && Object.keys(body.Actions).length > MAX_ACTIONS;
  const category = unread ? 'provisional' : categorizeResult(code ?? undefined, actions);
  // Without IsFinalResult, a definite category is taken as final; a provisional one never is.
  const final = !unread && (isFinal ?? category !== 'provisional');
  return withResultDetails(
    {
      slot: 'result',
      final,
      smileJobId: body.SmileJobID ?? null,
      // A provisional category stays provisional even when final (Pending Approval may be final).
      state: final ? category : 'provisional',
      resultCode: code,
      resultText: body.ResultText ?? (code ? (RESULT_CODES[code]?.text ?? null) : null),
      actions,
    },
    body,
  );
}

/** What Smile ID says about the result besides its state: shown as sent. */
function withResultDetails(facet: ResultFacet, body: CallbackBody | undefined): ResultFacet {
  const { job_id: _j, user_id: _u, job_type: _t, ...extras } = body?.PartnerParams ?? {};
  return {
    ...facet,
    resultType: body?.ResultType ?? null,
    confidenceValue: body?.ConfidenceValue ?? null,
    isMachineResult: body?.IsMachineResult ?? null,
    partnerParams: Object.fromEntries(
      Object.entries(extras).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
    ),
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
  const ownCode = [body.ResultCode, body.Antifraud?.ResultCode].find(
    (candidate) => candidate !== undefined && SMILE_SECURE_CODES.has(candidate),
  );
  const code = ownCode ?? null;
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

/** A key Smile ID filled with "Not Available" (or another absent marker) carries no ID data. */
function isPresent(value: unknown): boolean {
  return !isAbsent(value);
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter((entry) => entry[1] !== undefined)) as T;
}
