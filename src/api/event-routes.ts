import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { HttpError } from '../http/errors.js';
import { requirePiiAccess } from './bearer-auth.js';
import { cursorSchema, encodeCursor, eventCursorPayload } from './cursor.js';
import type { EventRow } from './event-queries.js';
import { readEventBody } from './identity-data.js';
import { BEARER_ROUTE, type RouteContext } from './route-context.js';
import { commonErrors, errorSchema, jobParamsSchema, queryLimit } from './schemas.js';

/** Bodies hold photos (about 1.4 MB each): pages that carry them are kept small. */
const LIMITS = { withoutBodies: { default: 50, max: 200 }, withBodies: { default: 5, max: 20 } } as const;

export const eventsQuerySchema = z
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
    cursor: cursorSchema(eventCursorPayload).optional(),
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
  body: z.unknown().optional().describe('The stored body, with a PII token and include=body only'),
};
const eventSchema = z
  .discriminatedUnion('source', [
    z.object({
      source: z.literal('callback'),
      trusted: z.boolean().describe('Applied to the outcome; untrusted callbacks are stored, not applied'),
      untrustedReason: z.string().nullable(),
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

const eventPageSchema = z
  .object({ items: z.array(eventSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'JobEventPage' });

function presentEvent(row: EventRow) {
  const common = {
    id: row.id,
    kinds: row.kinds,
    contentHash: row.contentHash,
    bodyBytes: row.bodyBytes,
    smileJobId: row.smileJobId,
  };
  if (row.source === 'callback') {
    const { trusted, untrustedReason } = row;
    return {
      source: 'callback' as const,
      trusted,
      untrustedReason,
      receivedAt: row.at.toISOString(),
      ...common,
    };
  }
  return {
    source: 'job_status' as const,
    trusted: true as const,
    untrustedReason: null,
    fetchedAt: row.at.toISOString(),
    jobComplete: row.jobComplete,
    jobSuccess: row.jobSuccess,
    ...common,
  };
}

/** GET /v1/jobs/:jobId/events: the evidence behind a job's outcome, newest first. */
export const eventRoutes: FastifyPluginAsyncZod<RouteContext> = async (api, context) => {
  api.get(
    '/v1/jobs/:jobId/events',
    {
      config: context.routeConfig,
      schema: {
        ...BEARER_ROUTE,
        summary: "The job's stored callbacks and job_status snapshots, newest first",
        params: jobParamsSchema,
        querystring: eventsQuerySchema,
        response: { 200: eventPageSchema, 403: errorSchema, 404: errorSchema, ...commonErrors },
      },
    },
    async (request) => {
      const { jobId } = request.params;
      const { include, cursor } = request.query;
      const withBodies = include === 'body';
      const caller = context.callerOf(request);
      if (withBodies) requirePiiAccess(caller);
      const exists = withBodies
        ? await context.audit.recordRead({
            jobId,
            fingerprint: caller.fingerprint,
            read: 'body',
            route: `${request.method} ${request.routeOptions.url}`,
            requestId: request.id,
          })
        : await context.jobs.exists(jobId);
      if (!exists) throw new HttpError(404, 'JOB_NOT_FOUND', 'no job with this id');

      const limits = withBodies ? LIMITS.withBodies : LIMITS.withoutBodies;
      const limit = request.query.limit ?? limits.default;
      const { events, more } = await context.events.list(jobId, {
        limit,
        cursor: cursor && { at: new Date(cursor.at), id: cursor.id },
      });
      const bodies = withBodies ? await context.events.bodies(jobId, events) : [];
      const bodyOf = new Map(bodies.map((row) => [row.id, readEventBody(row, context.cipher)]));
      const last = events.at(-1);
      return {
        items: events.map((row) => ({
          ...presentEvent(row),
          ...(withBodies ? { body: bodyOf.get(row.id) ?? null } : {}),
        })),
        nextCursor: more && last ? encodeCursor({ at: last.at.toISOString(), id: last.id }) : null,
      };
    },
  );
};
