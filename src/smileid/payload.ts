import { z } from 'zod';
import { isAbsentMarker } from '../domain/identifiers.js';
import { isRecord } from '../util/is-record.js';

/**
 * Tolerant schemas for Smile ID bodies (docs/smile-id.md#loose-typing). Smile ID types loosely: numbers
 * arrive as strings, booleans as "true"/"false", absent values as "Not Available". A field of an unexpected type becomes
 * `undefined` instead of failing the whole body: a callback is never rejected for its shape.
 */

/*
 * Caps on the lists the service keeps from a body. Each is far above what Smile ID sends; past it, the
 * extra entries are neither parsed nor kept: they remain in the stored (sealed) body, and the
 * classification names the list in `overflow` (see `overflowOf`).
 */

/** Smile Secure `Antifraud.SuspectUsers` entries read: a match lists a handful of the partner's users. */
export const MAX_SUSPECT_USERS = 100;
/** `UserIDsOfPreviousRegistrants` entries read: the partner's users who already ran KYC with the ID number. */
export const MAX_PREVIOUS_REGISTRANTS = 100;
/**
 * Longest text kept from a field (names, addresses, ids, result text, suspects' reasons): real values are
 * tens of characters. Photos and documents are never kept, only noted as present, so they have no cap.
 */
export const MAX_KEPT_TEXT_LENGTH = 4_096;
/** `Actions` keys read: Smile ID's documented actions number about fifteen. */
export const MAX_ACTIONS = 64;
/** job_status `history` entries read (the newest): one per callback sent for the job, usually two to four. */
export const MAX_HISTORY_ENTRIES = 50;

/** Smile ID's ways of saying a value is absent: null, or a marker such as "Not Available" or "N/A". */
export function isAbsent(value: unknown): boolean {
  if (value === null || value === undefined) return true;
  return typeof value === 'string' && isAbsentMarker(value);
}

function present(value: unknown): unknown {
  return isAbsent(value) ? undefined : value;
}

export const looseString = z
  .preprocess((value) => {
    const kept = present(value);
    return typeof kept === 'number' && Number.isFinite(kept) ? String(kept) : kept;
  }, z.string().optional())
  .catch(undefined);

export const looseBoolean = z
  .preprocess((value) => {
    const kept = present(value);
    if (typeof kept !== 'string') return kept;
    const lowered = kept.trim().toLowerCase();
    if (lowered === 'true') return true;
    if (lowered === 'false') return false;
    return undefined;
  }, z.boolean().optional())
  .catch(undefined);

export const looseInteger = z
  .preprocess((value) => {
    const kept = present(value);
    return typeof kept === 'string' && /^\s*-?\d+\s*$/.test(kept) ? Number(kept) : kept;
  }, z.number().int().optional())
  .catch(undefined);

/** A number that may arrive as a string (`"99"`, `"99.5"`); anything else is absent. */
export const looseNumber = z
  .preprocess((value) => {
    const kept = present(value);
    return typeof kept === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(kept) ? Number(kept) : kept;
  }, z.number().finite().optional())
  .catch(undefined);

/**
 * A text field whose value is kept (in a facet, hence in the job): past MAX_KEPT_TEXT_LENGTH it is not
 * kept at all, since a cut name or address would be a wrong one. The bytes remain in the stored body.
 */
export const keptText = z.preprocess(
  (value) => (typeof value === 'string' && value.length > MAX_KEPT_TEXT_LENGTH ? undefined : value),
  looseString,
);

/** Result codes are 4-character strings with leading zeros; `810` or `"810"` means `"0810"`. */
export const resultCode = z
  .preprocess((value) => {
    const kept = present(value);
    const text = typeof kept === 'number' && Number.isInteger(kept) ? String(kept) : kept;
    return typeof text === 'string' && /^\d{1,4}$/.test(text.trim())
      ? text.trim().padStart(4, '0')
      : undefined;
  }, z.string().optional())
  .catch(undefined);

/**
 * An open map of action name to outcome; keys or values of other types are dropped. Only the first
 * MAX_ACTIONS keys are read.
 */
export const actionsSchema = z
  .preprocess(
    (value) => {
      if (!isRecord(value)) return {};
      const read: Record<string, string> = {};
      for (const key of Object.keys(value).slice(0, MAX_ACTIONS)) {
        const outcome = value[key];
        if (typeof outcome === 'string') read[key] = outcome;
      }
      return read;
    },
    z.record(z.string(), z.string()),
  )
  .catch({});

/** A list given as an array or as comma-separated text; only its first `cap` items are read. */
const cappedStringList = (cap: number) =>
  z
    .preprocess((value) => {
      const kept = present(value);
      if (typeof kept === 'string') return kept.split(',', cap).map((item) => item.trim());
      return Array.isArray(kept) ? kept.slice(0, cap) : [];
    }, z.array(keptText))
    .transform((items) => items.filter((item): item is string => item !== undefined && item.trim() !== ''))
    .catch([]);

export const partnerParamsSchema = z
  .looseObject({ job_id: looseString, user_id: looseString, job_type: looseInteger })
  .catch({ job_id: undefined, user_id: undefined, job_type: undefined });

/** A suspect names its reason as `reason`, or (the Java SDK's model) as a list of `reasons`. */
const suspectUserSchema = z.preprocess(
  (value) =>
    isRecord(value) && value.reason === undefined && Array.isArray(value.reasons)
      ? { ...value, reason: value.reasons.filter((item) => typeof item === 'string').join(', ') }
      : value,
  z.looseObject({ user_id: keptText, reason: keptText }),
);

/** Smile Secure's suspects; only the first MAX_SUSPECT_USERS entries are read. */
export const suspectUsersSchema = z
  .preprocess(
    (value) => (Array.isArray(value) ? value.slice(0, MAX_SUSPECT_USERS) : []),
    z.array(z.unknown()),
  )
  .transform((items) =>
    items.flatMap((item) => {
      const parsed = suspectUserSchema.safeParse(item);
      return parsed.success && parsed.data.user_id
        ? [{ userId: parsed.data.user_id, reason: parsed.data.reason ?? null }]
        : [];
    }),
  )
  .catch([]);

/**
 * Smile Secure's block: `Antifraud.SuspectUsers` in the docs' callbacks, or nested as
 * `Antifraud.smile_secure.{ResultCode, SuspectUsers}` in the Java SDK's model.
 */
const antifraudSchema = z
  .preprocess(
    (value) => {
      if (!isRecord(value) || !isRecord(value.smile_secure)) return value;
      const nested = value.smile_secure;
      return {
        ...value,
        SuspectUsers: value.SuspectUsers ?? nested.SuspectUsers,
        ResultCode: nested.ResultCode,
      };
    },
    z.looseObject({ SuspectUsers: suspectUsersSchema, ResultCode: resultCode }),
  )
  .optional()
  .catch(undefined);

/** Every key of a result, ID-information or Smile Secure callback that the service reads. */
export const callbackBodySchema = z.looseObject({
  PartnerParams: partnerParamsSchema.optional(),
  SmileJobID: keptText,
  ResultCode: resultCode,
  ResultText: keptText,
  ResultType: keptText,
  IsFinalResult: looseBoolean,
  IsMachineResult: looseBoolean,
  ConfidenceValue: looseNumber,
  Actions: z.unknown().optional(),
  Antifraud: antifraudSchema,
  Country: keptText,
  IDType: keptText,
  IDNumber: keptText,
  Secondary_ID_Number: keptText,
  SecondaryIDNumber: keptText,
  ExpirationDate: keptText,
  IssuanceDate: keptText,
  FullName: keptText,
  DOB: keptText,
  Gender: keptText,
  Address: keptText,
  PhoneNumber: keptText,
  PhoneNumber2: keptText,
  Photo: looseString,
  Document: looseString,
  FullData: z.unknown().optional(),
  IDNumberPreviouslyRegistered: looseBoolean,
  UserIDsOfPreviousRegistrants: cappedStringList(MAX_PREVIOUS_REGISTRANTS),
});
export type CallbackBody = z.infer<typeof callbackBodySchema>;

/**
 * The job_status response shape (docs/smile-id.md#job-status-api), also seen as a callback in old official examples. `history`
 * is oldest first, so its newest MAX_HISTORY_ENTRIES entries are the ones read.
 */
export const jobStatusShapeSchema = z.looseObject({
  job_complete: looseBoolean,
  job_success: looseBoolean,
  code: resultCode,
  result: z.unknown().optional(),
  history: z
    .preprocess(
      (value) => (Array.isArray(value) ? value.slice(-MAX_HISTORY_ENTRIES) : []),
      z.array(z.unknown()),
    )
    .catch([]),
});
export type JobStatusShape = z.infer<typeof jobStatusShapeSchema>;

/** The two fields every signed body must carry, as strings exactly as received. */
export const signedEnvelopeSchema = z.object({
  signature: z.string({ error: 'signature must be a string' }).min(1, 'signature is empty'),
  timestamp: z.string({ error: 'timestamp must be a string' }).min(1, 'timestamp is empty'),
});

/** The text fields of callbackBodySchema whose value is kept, each capped at MAX_KEPT_TEXT_LENGTH. */
const KEPT_TEXT_FIELDS = [
  'SmileJobID',
  'ResultText',
  'ResultType',
  'Country',
  'IDType',
  'IDNumber',
  'Secondary_ID_Number',
  'SecondaryIDNumber',
  'ExpirationDate',
  'IssuanceDate',
  'FullName',
  'DOB',
  'Gender',
  'Address',
  'PhoneNumber',
  'PhoneNumber2',
] as const;

/**
 * What of a result, ID-information or Smile Secure body was too large to read, by its path in the body:
 * each capped list holding more entries than its cap (e.g. `Antifraud.SuspectUsers`), and each kept text
 * field longer than MAX_KEPT_TEXT_LENGTH (e.g. `FullName`). Counting is cheap: arrays by length,
 * comma-separated text by its commas, up to the cap.
 */
export function overflowOf(body: Readonly<Record<string, unknown>>): string[] {
  const names: string[] = KEPT_TEXT_FIELDS.filter((field) => {
    const value = body[field];
    return typeof value === 'string' && value.length > MAX_KEPT_TEXT_LENGTH;
  });
  const suspects = isRecord(body.Antifraud) ? body.Antifraud.SuspectUsers : undefined;
  if (Array.isArray(suspects) && suspects.length > MAX_SUSPECT_USERS) names.push('Antifraud.SuspectUsers');
  if (countsMoreThan(body.UserIDsOfPreviousRegistrants, MAX_PREVIOUS_REGISTRANTS)) {
    names.push('UserIDsOfPreviousRegistrants');
  }
  if (isRecord(body.Actions) && Object.keys(body.Actions).length > MAX_ACTIONS) names.push('Actions');
  return names;
}

/** Whether a job_status `history` holds more entries than are read. */
export function historyOverflows(history: unknown): boolean {
  return Array.isArray(history) && history.length > MAX_HISTORY_ENTRIES;
}

function countsMoreThan(list: unknown, cap: number): boolean {
  if (Array.isArray(list)) return list.length > cap;
  if (typeof list !== 'string') return false;
  let commas = 0;
  for (let at = list.indexOf(','); at >= 0 && commas < cap; at = list.indexOf(',', at + 1)) commas += 1;
  return commas >= cap;
}
