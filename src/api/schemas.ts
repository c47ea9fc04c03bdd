import { z } from 'zod';
import { DECISION_SOURCES, DECISION_VALUES } from '../domain/decision/policy.js';
import { JOB_STATES } from '../domain/facets.js';
import { ID_PROBLEM_MESSAGES, idProblem, MAX_ID_LENGTH } from '../domain/identifiers.js';
import { IDENTITY_SOURCES } from '../domain/outcome.js';
import { type ErrorCode, statusesOf, whenOf } from '../http/coded-error.js';
import type { ERRORS } from '../http/error-catalog.js';

/**
 * The zod schemas shared by the /v1 routes. They validate requests (through Fastify's type provider),
 * serialize responses (unknown keys are stripped, so nothing undeclared leaves), and are the source of
 * the OpenAPI document at /docs/json.
 */

/** Postgres text cannot hold NUL; refusing it here keeps such input a 400 instead of a database error. */
export const text = (max: number, min = 1) =>
  z
    .string()
    .min(min)
    .max(max)
    .refine((value) => !value.includes('\0'), 'must not contain NUL characters');

/** Largest Postgres `integer`: a larger number would reach the driver and fail as a 500. */
export const INT32_MAX = 2_147_483_647;

/** A whole number a Postgres `integer` column holds, from 1. */
export const positiveInt32 = z.number().int().min(1).max(INT32_MAX, `must be at most ${INT32_MAX}`);

/**
 * A job or user id, by the one rule intake also reads them with (domain/identifiers.ts): what is
 * accepted here, a callback naming it is attributed to. `maxLength` only documents the rule, in JSON
 * Schema's unit, which is the rule's.
 */
const partnerId = () =>
  z
    .string()
    .superRefine((value, context) => {
      const problem = idProblem(value);
      if (problem) context.addIssue({ code: 'custom', message: ID_PROBLEM_MESSAGES[problem] });
    })
    .meta({ minLength: 1, maxLength: MAX_ID_LENGTH });

export const jobIdSchema = partnerId().describe(
  'The partner job id (PartnerParams.job_id); not blank, "N/A" or "Not Available"',
);
export const userIdSchema = partnerId().describe(
  'The partner user id (PartnerParams.user_id); not blank, "N/A" or "Not Available"',
);
export const jobParamsSchema = z.strictObject({ jobId: jobIdSchema });

/** `true` or `false` in a query string. */
export const queryFlag = z.enum(['true', 'false']).transform((value) => value === 'true');

/** `limit` in a query string: a whole number from 1 to `max`. */
export const queryLimit = (max: number) =>
  z
    .string()
    .regex(/^\d{1,6}$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1, 'must be at least 1').max(max, `must be at most ${max}`))
    .describe(`Page size, 1 to ${max}`);

export const errorSchema = z
  .object({ error: z.object({ code: z.string(), message: z.string() }) })
  .meta({ id: 'Error', description: 'Every refusal: a stable code and a message; never the request echoed' });

// Our own Date#toISOString(): documented as date-times, not re-checked against a regex on every item.
const dateTime = z.string().meta({ format: 'date-time' });

/** The ID authority's record (PII), as the merge keeps it (src/domain/facets.ts IdInfo). */
export const idInfoSchema = z
  .object({
    country: z.string().optional(),
    idType: z.string().optional(),
    idNumber: z.string().optional(),
    secondaryIdNumber: z.string().optional(),
    fullName: z.string().optional(),
    dob: z.string().optional(),
    gender: z.string().optional(),
    address: z.string().optional(),
    phoneNumber: z.string().optional(),
    phoneNumber2: z.string().optional(),
    expirationDate: z.string().optional(),
    issuanceDate: z.string().optional(),
    fullData: z.unknown().optional(),
    photoProvided: z.boolean().optional(),
    documentProvided: z.boolean().optional(),
  })
  .meta({ id: 'IdInfo', description: 'Identity data: only with a PII token and `?include=idInfo`' });

// Split where idInfo goes, so the keys keep the documented order (docs/api.md#a-jobs-outcome).
const fieldsBeforeIdInfo = {
  jobId: z.string(),
  userId: z.string().nullable(),
  jobType: z.number().int().nullable(),
  smileJobId: z.string().nullable(),
  smileJobIds: z.array(z.string()),
  state: z.enum(JOB_STATES),
  isFinal: z
    .boolean()
    .describe(
      'Smile ID says the result is final. Act on a job only when `isFinal && confirmed`: a final result that ' +
        'only a callback claims can still be overruled by job_status',
    ),
  confirmed: z
    .boolean()
    .describe(
      'The state shown is Smile ID’s own signed job_status answer, fetched by this service. A confirmed final ' +
        'outcome never changes again; an unconfirmed one is a claim that job_status may overrule',
    ),
  needsConfirmation: z
    .boolean()
    .describe(
      'True exactly while a job_status check is scheduled because evidence arrived that job_status has not ' +
        'settled yet: an unconfirmed result, a final callback job_status has not (yet) agreed with, an ' +
        'unknown result code, a user id that only a callback gave or a body naming another user, or an ' +
        'untrusted body. It clears when job_status settles it; never true once final and confirmed',
    ),
  userIdSource: z
    .enum(IDENTITY_SOURCES)
    .nullable()
    .describe(
      'Where userId came from: `registration` (POST /v1/jobs) and `job_status` are facts; `callback` and ' +
        '`untrusted` are what a body claimed, until job_status returns the job for that user',
    ),
  stale: z.boolean().describe('Polled until the horizon without becoming final and confirmed'),
  lastCheckedAt: dateTime.nullable(),
  nextCheckAt: dateTime.nullable(),
  resultCode: z.string().nullable().describe('The code of the result shown, e.g. `1210`, `0814`'),
  resultText: z.string().nullable(),
  actions: z.record(z.string(), z.string()),
  resultType: z.string().nullable().describe('As Smile ID sent it, e.g. `SAIA`, `DIVA`'),
  confidenceValue: z.number().nullable().describe('Smile ID’s confidence in the result, when given'),
  isMachineResult: z.boolean().nullable().describe('false once a person reviewed the job'),
  partnerParams: z
    .record(z.string(), z.string())
    .describe('PartnerParams keys beyond job_id, user_id and job_type, as sent back by Smile ID'),
};
/** A job's submission to Smile ID (POST /v1/submissions). */
export const submissionSchema = z
  .object({
    status: z
      .enum(['queued', 'uploading', 'uploaded', 'failed'])
      .describe('`uploaded` once Smile ID has the zip; `failed` when it will not be sent (see `error`)'),
    attempts: z.number().int().describe('Attempts made so far, including the current one'),
    smileJobId: z.string().nullable().describe("Smile ID's job id, from its answer to the prep upload"),
    queuedAt: dateTime.describe('When this service accepted the submission'),
    submittedAt: dateTime.nullable().describe('When Smile ID accepted the zip'),
    error: z
      .object({ code: z.string(), message: z.string() })
      .nullable()
      .describe('Why it failed, or the last retryable error while it is still being attempted'),
  })
  .meta({ id: 'Submission' });

/** A job's decision (docs/api.md#decisions). */
export const decisionSchema = z
  .object({
    value: z
      .enum(DECISION_VALUES)
      .describe(
        'What to do with the user: `approve`, `review` (a person should look), `reject`, `retry` (ask them to ' +
          'try again) or `pending` (nothing to act on yet: no result, Smile ID still working, or a result job_status ' +
          'has not confirmed). Anything but `pending` rests on a result job_status confirmed',
      ),
    reasons: z.array(z.string()).describe('Why, in snake_case words: the rule’s reasons'),
    details: z
      .object({
        previousRegistrantUserIds: z
          .array(z.string())
          .optional()
          .describe('Other users who registered the ID number before, when the rule looked at them'),
        suspectUserIds: z
          .array(z.string())
          .optional()
          .describe('The users Smile Secure named as suspects, when the rule looked at them'),
      })
      .describe('The users the decision is about'),
    source: z.enum(DECISION_SOURCES).describe('`policy`, or `operator` when a person decided'),
    rule: z
      .string()
      .describe(
        'The rule that decided: a rule id of the policy, `fallback`, or the service’s own `no_result`, ' +
          '`awaiting_confirmation`, `evidence_changed_since_review` (a person’s decision no longer holds) and ' +
          '`unconfirmed_claim` (only a claim job_status has not confirmed would give the policy’s answer); ' +
          'a person’s decision keeps the rule of the review it settled',
      ),
    policyVersion: z
      .string()
      .nullable()
      .describe('`name@digest` of the policy that decided; null until a policy has decided the job'),
    decidedAt: dateTime.describe('When the decision last changed'),
  })
  .meta({ id: 'Decision' });

const suspectUserSchema = z.object({ userId: z.string(), reason: z.string().nullable() });
const fieldsAfterIdInfo = {
  idNumberPreviouslyRegistered: z
    .boolean()
    .nullable()
    .describe(
      '`null` until an ID record says: unknown is not `false`. Raised by any trusted body; only a job_status ' +
        'answer that states it can clear it',
    ),
  previousRegistrantUserIds: z.array(z.string()),
  suspectUsers: z.array(suspectUserSchema),
  smileSecure: z
    .object({
      code: z.string().nullable(),
      meaning: z.enum(['no_suspects', 'suspects_found', 'system_error']).nullable(),
      suspectUsers: z.array(suspectUserSchema),
    })
    .nullable()
    .describe(
      'Smile Secure’s fraud signal (5210 no suspects, 5211 suspects found, 5212 system error); null when none arrived',
    ),
  submission: submissionSchema
    .nullable()
    .describe('The submission to Smile ID through POST /v1/submissions; null for jobs submitted elsewhere'),
  decision: decisionSchema,
  createdAt: dateTime,
  updatedAt: dateTime,
  finalizedAt: dateTime.nullable(),
};

/** A job in a list: never with identity data. */
export const jobSummarySchema = z
  .object({ ...fieldsBeforeIdInfo, ...fieldsAfterIdInfo })
  .meta({ id: 'JobSummary' });

/** One job's merged outcome; `idInfo` only when a PII token asked for it. */
export const jobSchema = z
  .object({ ...fieldsBeforeIdInfo, idInfo: idInfoSchema.nullable().optional(), ...fieldsAfterIdInfo })
  .meta({ id: 'Job' });

/** Codes every bearer route may answer with, on top of its own. */
const COMMON_ERRORS = [
  'VALIDATION_FAILED',
  'UNAUTHENTICATED',
  'RATE_LIMITED',
  'INTERNAL_ERROR',
  'STORAGE_UNAVAILABLE',
  'SHUTTING_DOWN',
] as const satisfies readonly ErrorCode[];

type StatusOf<C extends ErrorCode> = (typeof ERRORS)[C]['status'] extends infer S
  ? S extends number
    ? S
    : S[keyof S]
  : never;

/**
 * A route's error responses, from the catalog: the common codes and `codes`, one response per status,
 * each described by the codes it carries and when (as docs/api.md#errors says).
 */
export function errorResponses<const C extends ErrorCode = never>(
  ...codes: C[]
): Record<StatusOf<C | (typeof COMMON_ERRORS)[number]>, typeof errorSchema> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of [...COMMON_ERRORS, ...codes]) {
    for (const status of statusesOf(code)) byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses = [...byStatus].map(([status, inStatus]) => {
    // Without the docs' links, which are relative to docs/.
    const lines = inStatus.map(
      (code) => `- \`${code}\`: ${whenOf(code).replace(/\[([^\]]+)\]\([^)]+\)/g, '$1')}`,
    );
    return [status, errorSchema.describe(lines.join('\n'))] as const;
  });
  return Object.fromEntries(responses) as Record<
    StatusOf<C | (typeof COMMON_ERRORS)[number]>,
    typeof errorSchema
  >;
}
