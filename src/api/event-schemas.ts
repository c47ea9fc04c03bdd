import { z } from 'zod';
import { type Cursors, eventCursorPayload } from './cursor.js';
import { queryLimit } from './schemas.js';

/** The schemas of GET /v1/jobs/:jobId/events: its query, and the page of events it answers. */

/** Bodies hold photos (about 1.4 MB each): pages that carry them are kept small. */
export const LIMITS = {
  withoutBodies: { default: 50, max: 200 },
  withBodies: { default: 5, max: 20 },
} as const;

export const eventsQuerySchema = (cursors: Cursors) =>
  z
    .strictObject({
      include: z
        .enum(['body'])
        .optional()
        .describe('`body` adds each stored body: PII token only, and the read is audited'),
      limit: queryLimit(LIMITS.withoutBodies.max)
        .optional()
        .describe(
          `Page size: default ${LIMITS.withoutBodies.default}, at most ${LIMITS.withoutBodies.max}; ` +
            `with include=body default ${LIMITS.withBodies.default}, at most ${LIMITS.withBodies.max}`,
        ),
      cursor: cursors.schema('events', eventCursorPayload).optional(),
    })
    .superRefine((query, context) => {
      if (query.include === 'body' && query.limit !== undefined && query.limit > LIMITS.withBodies.max) {
        context.addIssue({
          code: 'custom',
          path: ['limit'],
          message: `must be at most ${LIMITS.withBodies.max} with include=body`,
        });
      }
    });

const dateTime = z.iso.datetime();
const evidenceFields = {
  id: z.string(),
  kinds: z.array(z.string()).describe('What the body carried: result, id_info, smile_secure, …'),
  contentHash: z.string().describe('SHA-256 hex of the stored content'),
  bodyBytes: z.number().int(),
  smileJobId: z.string().nullable(),
  body: z
    .unknown()
    .optional()
    .describe(
      'The stored body, with a PII token and include=body only; its `signature` is redacted (with its timestamp it would verify on any body)',
    ),
};
const eventSchema = z
  .discriminatedUnion('source', [
    z.object({
      source: z.literal('callback'),
      trusted: z.boolean().describe('Applied to the outcome; untrusted callbacks are stored, not applied'),
      untrustedReason: z
        .string()
        .nullable()
        .describe(
          'timestamp_outside_tolerance, timestamp_in_future, timestamp_unparseable, signature_replayed or no_job_id',
        ),
      bodyWithheld: z
        .boolean()
        .describe(
          'Only its digest and metadata were kept: an untrusted body past its source address’s hourly quota, ' +
            'or a body that arrived after the job’s identity data was erased',
        ),
      identityConflict: z
        .boolean()
        .describe('The body named another user than the job’s; the job kept its user'),
      overflow: z
        .array(z.string())
        .describe(
          'Lists longer than their cap, kept whole only in the stored body (e.g. Antifraud.SuspectUsers)',
        ),
      contradictedAt: dateTime
        .nullable()
        .describe('When job_status contradicted this callback’s final result; it was then not believed'),
      receivedAt: dateTime,
      ...evidenceFields,
    }),
    z.object({
      source: z.literal('job_status'),
      trusted: z.literal(true).describe('A signed response the service fetched itself'),
      untrustedReason: z.null(),
      fetchedAt: dateTime,
      jobComplete: z.boolean().nullable(),
      jobSuccess: z.boolean().nullable(),
      ...evidenceFields,
    }),
  ])
  .meta({ id: 'JobEvent' });

export const eventPageSchema = z
  .object({ items: z.array(eventSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'JobEventPage' });
