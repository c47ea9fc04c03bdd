import { z } from 'zod';
import {
  DECISION_VALUES,
  type Policy,
  RESERVED_RULE_IDS,
  SMILE_SECURE_MEANINGS,
} from '../domain/decision/policy.js';
import { JOB_STATES } from '../domain/facets.js';

/**
 * The decision policy file's schema: what a file must hold to become a Policy (src/domain/decision/).
 * Unknown keys are refused, so a misspelt condition is a problem rather than a rule that always holds.
 */

const SNAKE_CASE = /^[a-z][a-z0-9_]*$/;
const snakeCase = z.string().regex(SNAKE_CASE, 'must be snake_case: lower-case letters, digits and _');

/** One value, or a list of them: `state: approved` reads as `state: [approved]`. */
const list = <T extends z.ZodType>(item: T) =>
  z.preprocess(
    (value) => (Array.isArray(value) ? value : [value]),
    z.array(item).min(1, 'must not be empty'),
  );

const RESULT_CODE = /^(?:\d{4}|\d{0,3}\*)$/;
const resultCode = z
  .string({ error: 'must be a string: quote result codes, e.g. "0810", or a leading zero is lost' })
  .regex(RESULT_CODE, 'must be a 4-digit result code ("0810") or a prefix ending in * ("12*")');

const range = z
  .strictObject({
    atLeast: z.number().optional(),
    above: z.number().optional(),
    atMost: z.number().optional(),
    below: z.number().optional(),
  })
  .refine((bounds) => Object.values(bounds).some((bound) => bound !== undefined), {
    message: 'needs at least one of atLeast, above, atMost, below',
  });

const conditions = z.strictObject({
  state: list(z.enum(JOB_STATES)).optional(),
  isFinal: z.boolean().optional(),
  stale: z.boolean().optional(),
  resultCode: list(resultCode).optional(),
  resultCodeKnown: z.boolean().optional(),
  actions: z.record(z.string().min(1), list(z.string().min(1))).optional(),
  jobType: list(z.number().int().positive()).optional(),
  idType: list(z.string().min(1)).optional(),
  country: list(z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code, e.g. NG')).optional(),
  previouslyRegisteredByOthers: list(
    z.union([z.boolean(), z.literal('unknown')], { error: 'must be true, false or unknown' }),
  ).optional(),
  smileSecure: list(z.enum(SMILE_SECURE_MEANINGS)).optional(),
  suspectUsers: range.optional(),
  confidenceValue: range.optional(),
});

const decision = z.enum(DECISION_VALUES);
const text = z.string().min(1);

const rule = z.strictObject({
  id: snakeCase.refine((id) => !RESERVED_RULE_IDS.has(id), {
    message: `is reserved for the service's own decisions (${[...RESERVED_RULE_IDS].join(', ')})`,
  }),
  description: text.optional(),
  source: text.optional(),
  when: conditions,
  decision,
  reasons: list(snakeCase).optional(),
});

export const policySchema = z
  .strictObject({
    name: z
      .string()
      .regex(
        /^[a-z0-9][a-z0-9._-]*$/,
        'must be lower-case letters, digits, ".", "_" or "-", e.g. acme-strict',
      ),
    description: text.optional(),
    rules: z.array(rule),
    fallback: z.strictObject({
      description: text.optional(),
      source: text.optional(),
      decision,
      reasons: list(snakeCase).optional(),
    }),
  })
  .superRefine((policy, context) => {
    const seen = new Map<string, number>();
    policy.rules.forEach((candidate, index) => {
      const first = seen.get(candidate.id);
      if (first === undefined) seen.set(candidate.id, index);
      else
        context.addIssue({
          code: 'custom',
          path: ['rules', index, 'id'],
          message: `repeats the id of rules.${first}: a decision must name one rule`,
        });
    });
  })
  .transform(
    (policy): Policy => ({
      name: policy.name,
      ...(policy.description ? { description: policy.description } : {}),
      rules: policy.rules.map(({ reasons, ...rest }) => ({ ...rest, reasons: reasons ?? [rest.id] })),
      fallback: { ...policy.fallback, reasons: policy.fallback.reasons ?? ['no_rule_matched'] },
    }),
  );
