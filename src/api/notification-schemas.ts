import { z } from 'zod';
import { bigintDigits } from '../util/bigint-id.js';
import type { Cursors } from './cursor.js';
import { queryLimit } from './schemas.js';

/** The schemas of /v1/notifications/*: dead letters and webhook endpoints, their params and pages. */

const dateTime = z.string().meta({ format: 'date-time' });
const deliveryIdSchema = bigintDigits('must be a delivery id').regex(/^[1-9]/, 'must be a delivery id');
const deadLetterCursor = z.strictObject({ id: deliveryIdSchema });

export const deadLetterSchema = z
  .object({
    id: z.string(),
    endpoint: z.string().describe('The endpoint’s URL'),
    event: z.string().describe('`job.updated` or `job.finalized`'),
    jobId: z.string(),
    messageId: z.string().describe('The `webhook-id` it was sent with, and will be again'),
    attempts: z.number().int(),
    lastError: z.string().nullable(),
    lastStatus: z.number().int().nullable(),
    createdAt: dateTime,
    deadAt: dateTime,
  })
  .meta({ id: 'DeadLetter' });

export const endpointSchema = z
  .object({
    id: z.number().int(),
    url: z.string(),
    disabledAt: dateTime.nullable().describe('Set when the endpoint answered 410 Gone'),
    disabledReason: z.string().nullable(),
    configuredAt: dateTime.describe('When a worker last found the endpoint in its NOTIFY_WEBHOOK_URLS'),
    retired: z
      .boolean()
      .describe('No worker has listed it for 15 minutes: nothing is sent to it, and it may be removed'),
    failures: z
      .number()
      .int()
      .describe(
        'Attempts in a row that got no answer, or 429, 502, 503 or 504; while above 0, one delivery at a time',
      ),
    backoffUntil: dateTime
      .nullable()
      .describe('Nothing is sent to it before this: its backoff, or what its Retry-After asked'),
    pending: z.number().int(),
    dead: z.number().int(),
  })
  .meta({ id: 'WebhookEndpoint' });

export const deadLettersQuerySchema = (cursors: Cursors) =>
  z.strictObject({
    limit: queryLimit(200).optional(),
    cursor: cursors.schema('dead-letters', deadLetterCursor).optional(),
  });

export const deadLetterPageSchema = z.object({
  items: z.array(deadLetterSchema),
  nextCursor: z.string().nullable(),
});

export const deadLetterParams = z.strictObject({ id: deliveryIdSchema });

export const endpointParams = z.strictObject({
  id: z
    .string()
    .regex(/^[1-9]\d{0,8}$/, 'must be an endpoint id')
    .transform(Number),
});

export const endpointRemovedSchema = z.object({
  id: z.number().int(),
  removed: z.literal(true),
  pending: z.number().int().describe('Deliveries that waited for it, now removed'),
  dead: z.number().int().describe('Its dead letters, now removed'),
});
