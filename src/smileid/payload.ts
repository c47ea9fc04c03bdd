import { z } from 'zod';

/**
 * Tolerant schemas for Smile ID bodies (SPEC §2). Smile ID types loosely: numbers arrive as strings,
 * booleans as "true"/"false", absent values as "Not Available". A field of an unexpected type becomes
 * `undefined` instead of failing the whole body: a callback is never rejected for its shape.
 */

const NOT_AVAILABLE = new Set(['not available', 'n/a', '']);

/** Longer than any spelling of "not available": such strings (photos) are never copied to compare. */
const LONGEST_ABSENT_MARKER = 32;

function present(value: unknown): unknown {
  if (value === null) return undefined;
  if (
    typeof value === 'string' &&
    value.length <= LONGEST_ABSENT_MARKER &&
    NOT_AVAILABLE.has(value.trim().toLowerCase())
  ) {
    return undefined;
  }
  return value;
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

/** An open map of action name to outcome; keys or values of other types are dropped. */
export const actionsSchema = z
  .preprocess(
    (value) =>
      value !== null && typeof value === 'object' && !Array.isArray(value)
        ? Object.fromEntries(Object.entries(value).filter((entry) => typeof entry[1] === 'string'))
        : {},
    z.record(z.string(), z.string()),
  )
  .catch({});

const stringList = z
  .preprocess((value) => {
    const kept = present(value);
    if (typeof kept === 'string') return kept.split(',').map((item) => item.trim());
    return Array.isArray(kept) ? kept : [];
  }, z.array(looseString))
  .transform((items) => items.filter((item): item is string => item !== undefined && item.trim() !== ''))
  .catch([]);

export const partnerParamsSchema = z
  .looseObject({ job_id: looseString, user_id: looseString, job_type: looseInteger })
  .catch({ job_id: undefined, user_id: undefined, job_type: undefined });

export const suspectUsersSchema = z
  .preprocess((value) => (Array.isArray(value) ? value : []), z.array(z.unknown()))
  .transform((items) =>
    items.flatMap((item) => {
      const parsed = z.looseObject({ user_id: looseString, reason: looseString }).safeParse(item);
      return parsed.success && parsed.data.user_id
        ? [{ userId: parsed.data.user_id, reason: parsed.data.reason ?? null }]
        : [];
    }),
  )
  .catch([]);

const antifraudSchema = z.looseObject({ SuspectUsers: suspectUsersSchema }).optional().catch(undefined);

/** Every key of a result, ID-information or Smile Secure callback that the service reads. */
export const callbackBodySchema = z.looseObject({
  PartnerParams: partnerParamsSchema.optional(),
  SmileJobID: looseString,
  ResultCode: resultCode,
  ResultText: looseString,
  ResultType: looseString,
  IsFinalResult: looseBoolean,
  Actions: z.unknown().optional(),
  Antifraud: antifraudSchema,
  Country: looseString,
  IDType: looseString,
  IDNumber: looseString,
  Secondary_ID_Number: looseString,
  SecondaryIDNumber: looseString,
  ExpirationDate: looseString,
  IssuanceDate: looseString,
  FullName: looseString,
  DOB: looseString,
  Gender: looseString,
  Address: looseString,
  PhoneNumber: looseString,
  PhoneNumber2: looseString,
  Photo: looseString,
  Document: looseString,
  FullData: z.unknown().optional(),
  IDNumberPreviouslyRegistered: looseBoolean,
  UserIDsOfPreviousRegistrants: stringList,
});
export type CallbackBody = z.infer<typeof callbackBodySchema>;

/** The job_status response shape (SPEC §4), also seen as a callback in old official examples. */
export const jobStatusShapeSchema = z.looseObject({
  job_complete: looseBoolean,
  job_success: looseBoolean,
  code: resultCode,
  result: z.unknown().optional(),
  history: z.preprocess((value) => (Array.isArray(value) ? value : []), z.array(z.unknown())).catch([]),
});
export type JobStatusShape = z.infer<typeof jobStatusShapeSchema>;

/** The two fields every signed body must carry, as strings exactly as received. */
export const signedEnvelopeSchema = z.object({
  signature: z.string({ error: 'signature must be a string' }).min(1, 'signature is empty'),
  timestamp: z.string({ error: 'timestamp must be a string' }).min(1, 'timestamp is empty'),
});
