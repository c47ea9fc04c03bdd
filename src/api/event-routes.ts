import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { CodedError } from '../http/coded-error.js';
import type { EventRow } from '../store/evidence/event-queries.js';
import { auditIdentityRead } from './audited-read.js';
import { presentEventBody } from './event-body.js';
import { eventPageSchema, eventsQuerySchema, LIMITS } from './event-schemas.js';
import { BEARER_ROUTE, type RouteContext } from './route-context.js';
import { errorResponses, jobParamsSchema } from './schemas.js';

/** An event as the API shows it, its time named for where it came from. */
function presentEvent(row: EventRow) {
  const common = {
    id: row.id,
    kinds: row.kinds,
    contentHash: row.contentHash,
    bodyBytes: row.bodyBytes,
    smileJobId: row.smileJobId,
  };
  if (row.source === 'callback') {
    const { trusted, untrustedReason, bodyWithheld, identityConflict, overflow } = row;
    return {
      source: 'callback' as const,
      trusted,
      untrustedReason,
      bodyWithheld,
      identityConflict,
      overflow,
      contradictedAt: row.contradictedAt?.toISOString() ?? null,
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
        querystring: eventsQuerySchema(context.cursors),
        response: {
          200: eventPageSchema,
          ...errorResponses('INVALID_CURSOR', 'PII_FORBIDDEN', 'JOB_NOT_FOUND', 'OBJECT_STORE_UNAVAILABLE'),
        },
      },
    },
    async (request) => {
      const { jobId } = request.params;
      const { include, cursor } = request.query;
      const withBodies = include === 'body';
      const exists = withBodies
        ? await auditIdentityRead(context, request, jobId, 'body')
        : await context.jobs.exists(jobId);
      if (!exists) throw new CodedError({ code: 'JOB_NOT_FOUND' });

      const limits = withBodies ? LIMITS.withBodies : LIMITS.withoutBodies;
      const limit = request.query.limit ?? limits.default;
      const { events, more } = await context.events.list(jobId, {
        limit,
        cursor: cursor && { at: new Date(cursor.at), id: cursor.id },
      });
      const bodies = withBodies ? await context.events.bodies(jobId, events) : [];
      const bodyOf = new Map(bodies.map((row) => [row.id, presentEventBody(row.body)]));
      const last = events.at(-1);
      return {
        items: events.map((row) => ({
          ...presentEvent(row),
          ...(withBodies ? { body: bodyOf.get(row.id) ?? null } : {}),
        })),
        nextCursor:
          more && last ? context.cursors.encode('events', { at: last.at.toISOString(), id: last.id }) : null,
      };
    },
  );
};
