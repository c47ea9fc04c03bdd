import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DECISION_VALUES, type DecisionValue } from '../domain/decision/policy.js';
import { JOB_STATES, type JobState } from '../domain/facets.js';
import { jobCursorPayload } from './cursor.js';
import { presentJob } from './present-job.js';
import { BEARER_ROUTE, type RouteContext } from './route-context.js';
import { errorResponses, jobSummarySchema, queryFlag, queryLimit, userIdSchema } from './schemas.js';

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 200;

/** One of `values`, or a comma-separated list of them. */
const listOf = (values: readonly string[]) => new RegExp(`^(${values.join('|')})(,(${values.join('|')}))*$`);
const STATE_LIST = listOf(JOB_STATES);
const DECISION_LIST = listOf(DECISION_VALUES);

/** A date-time with its offset, or a date (midnight UTC); a local time without offset is ambiguous. */
const isoInstant = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()], {
    error: 'must be an ISO 8601 date-time with an offset (2026-11-26T09:30:00Z) or a date (2026-11-26)',
  })
  .transform((value) => new Date(value));

export const listQuerySchema = z.strictObject({
  state: z
    .string()
    .regex(STATE_LIST, `must be one or a comma-separated list of ${JOB_STATES.join(', ')}`)
    .transform((value) => [...new Set(value.split(','))] as JobState[])
    .optional()
    .describe('One state or a comma-separated list'),
  userId: userIdSchema.optional(),
  isFinal: queryFlag.optional(),
  updatedSince: isoInstant.optional().describe('Jobs updated at or after this instant'),
  idNumberPreviouslyRegistered: z
    .enum(['true', 'false', 'unknown'])
    .transform((value) => (value === 'unknown' ? null : value === 'true'))
    .optional()
    .describe(
      '`true`: jobs whose ID number Smile ID had seen registered before; `false`: an ID record said it was not; ' +
        '`unknown`: no ID record said either yet',
    ),
  stale: queryFlag.optional().describe('`true`: jobs polled until the horizon without a confirmed result'),
  decision: z
    .string()
    .regex(DECISION_LIST, `must be one or a comma-separated list of ${DECISION_VALUES.join(', ')}`)
    .transform((value) => [...new Set(value.split(','))] as DecisionValue[])
    .optional()
    .describe(
      'Jobs whose decision is this value, or one of a comma-separated list (`review`, `approve,reject`)',
    ),
  limit: queryLimit(MAX_LIMIT).default(DEFAULT_LIMIT),
});

const listResponseSchema = z
  .object({
    items: z.array(jobSummarySchema),
    nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last'),
  })
  .meta({ id: 'JobPage' });

/**
 * GET /v1/jobs: jobs matching every filter given, in insertion order, a page at a time. Paging neither
 * skips nor repeats a job that existed when it started, whatever updates happen meanwhile; jobs created
 * meanwhile appear at the end. A job whose update makes it stop matching a filter drops out, as it should.
 */
export const jobListRoutes: FastifyPluginAsyncZod<RouteContext> = async (api, context) => {
  api.get(
    '/v1/jobs',
    {
      config: context.routeConfig,
      schema: {
        ...BEARER_ROUTE,
        summary: 'Jobs matching filters, a page at a time (never with identity data)',
        querystring: listQuerySchema.extend({
          cursor: context.cursors.schema('jobs', jobCursorPayload).optional(),
        }),
        response: { 200: listResponseSchema, ...errorResponses('INVALID_CURSOR') },
      },
    },
    async (request) => {
      const { limit, cursor, state, decision, ...filters } = request.query;
      const { jobs, more } = await context.jobs.list(
        { ...filters, states: state, decisions: decision },
        cursor?.seq,
        limit,
      );
      const last = jobs.at(-1);
      return {
        items: jobs.map(({ job }) => presentJob(job)),
        nextCursor: more && last ? context.cursors.encode('jobs', { seq: last.seq }) : null,
      };
    },
  );
};
