import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { REVIEW_VERDICTS } from '../domain/decision/review.js';
import { CodedError } from '../http/coded-error.js';
import { requireReviewAccess } from './bearer-auth.js';
import { reviewCursorPayload } from './cursor.js';
import { presentJob } from './present-job.js';
import { BEARER_ROUTE, type RouteContext } from './route-context.js';
import { errorResponses, jobParamsSchema, jobSchema, jobSummarySchema, queryLimit, text } from './schemas.js';

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 200;
const MAX_NOTE_CHARS = 2000;

const REVIEW_ROUTE = { ...BEARER_ROUTE, tags: ['reviews'] };

const reviewBodySchema = z.strictObject({
  decision: z.enum(REVIEW_VERDICTS).describe('What the person decided: `approve` or `reject`'),
  reason: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,63}$/, 'must be one snake_case word of at most 64 characters')
    .describe(
      'Why, as one snake_case word (`documents_match`, `suspect_confirmed`): the decision’s reason, shown ' +
        'with the job, in the change feed and in webhooks',
    ),
  note: text(MAX_NOTE_CHARS)
    .optional()
    .describe(
      'Free text for the audit trail only, never shown with the job; it outlives erasure, so it must not ' +
        'hold identity data',
    ),
});

const reviewPageSchema = z
  .object({
    items: z
      .array(jobSummarySchema)
      .describe('Jobs whose decision is `review`, those waiting longest (by `decision.decidedAt`) first'),
    nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last'),
  })
  .meta({ id: 'ReviewPage' });

/**
 * The review queue and its settling. GET /v1/reviews lists the jobs waiting for a person, oldest first;
 * POST /v1/jobs/:jobId/review is a person's decision on one of them, with a review token, audited.
 */
export const reviewRoutes: FastifyPluginAsyncZod<RouteContext> = async (api, context) => {
  api.get(
    '/v1/reviews',
    {
      config: context.routeConfig,
      schema: {
        ...REVIEW_ROUTE,
        summary: 'Jobs waiting for a person (decision `review`), oldest first, a page at a time',
        description:
          'Each job with its decision’s reasons and the users they name (never identity data). A job settled ' +
          'or decided otherwise meanwhile drops out; one sent to review meanwhile comes after every earlier one.',
        querystring: z.strictObject({
          limit: queryLimit(MAX_LIMIT).default(DEFAULT_LIMIT),
          cursor: context.cursors.schema('reviews', reviewCursorPayload).optional(),
        }),
        response: { 200: reviewPageSchema, ...errorResponses('INVALID_CURSOR') },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const after = cursor && { decidedAt: new Date(cursor.at), seq: cursor.seq };
      const { jobs, more } = await context.jobs.reviews(after, limit);
      const last = jobs.at(-1);
      return {
        items: jobs.map(({ job }) => presentJob(job)),
        nextCursor:
          more && last
            ? context.cursors.encode('reviews', {
                at: last.job.decision.decidedAt.toISOString(),
                seq: last.seq,
              })
            : null,
      };
    },
  );

  api.post(
    '/v1/jobs/:jobId/review',
    {
      config: context.routeConfig,
      // Refused before the body is validated: a token that may not review learns nothing more.
      preValidation: async (request) => requireReviewAccess(context.callerOf(request)),
      schema: {
        ...REVIEW_ROUTE,
        summary: 'Settle a job in review: a person approves or rejects it',
        description:
          'Review token only (`INTERNAL_REVIEW_TOKENS`); written to the audit trail with the token’s ' +
          'fingerprint, the time, the reason and note, and the decision replaced. Allowed only while the ' +
          'job’s decision is `review`. The decision becomes `source: operator` and stands until Smile ID’s ' +
          'confirmed evidence changes the policy’s answer; then the job goes back to review ' +
          '(`evidence_changed_since_review`). Smile ID’s evidence is never changed. Answers the job.',
        params: jobParamsSchema,
        body: reviewBodySchema,
        response: {
          200: jobSchema,
          ...errorResponses('REVIEW_FORBIDDEN', 'JOB_NOT_FOUND', 'NOT_IN_REVIEW'),
        },
      },
    },
    async (request) => {
      const { jobId } = request.params;
      const caller = context.callerOf(request);
      const result = await context.reviews.settle(jobId, request.body, {
        fingerprint: caller.fingerprint,
        route: `${request.method} ${request.routeOptions.url}`,
        requestId: request.id,
      });
      if (result.kind === 'not_found') throw new CodedError({ code: 'JOB_NOT_FOUND' });
      if (result.kind === 'not_in_review') throw new CodedError({ code: 'NOT_IN_REVIEW' });
      context.metrics?.reviewsSettled.inc({ decision: result.decision.value });
      request.log.info(
        { jobId, decision: result.decision.value, replaced: result.replaced.rule },
        'review settled',
      );
      const record = await context.jobs.read(jobId, { withIdInfo: false });
      if (!record) throw new Error('a reviewed job could not be read back');
      return presentJob(record);
    },
  );
};
