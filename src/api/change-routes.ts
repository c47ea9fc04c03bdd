import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DECISION_VALUES, type DecisionValue } from '../domain/decision/policy.js';
import { JOB_STATES } from '../domain/facets.js';
import { CodedError } from '../http/coded-error.js';
import { FEED_START, type FeedChange } from '../store/feed/change-feed.js';
import { type Cursors, feedCursorPayload } from './cursor.js';
import { BEARER_ROUTE, type RouteContext } from './route-context.js';
import { decisionSchema, errorResponses, queryLimit } from './schemas.js';

/** Longest a request may wait for a change. */
export const MAX_WAIT_SECONDS = 30;

const changesQuerySchema = (cursors: Cursors) =>
  z.strictObject({
    after: cursors
      .schema('changes', feedCursorPayload)
      .optional()
      .describe(
        '`nextCursor` (or an item’s `cursor`, or a webhook’s `data.cursor`) already seen; absent: from the oldest change kept',
      ),
    limit: queryLimit(1000).optional(),
    wait: z
      .string()
      .regex(/^\d{1,2}$/, 'must be a whole number of seconds')
      .transform(Number)
      .pipe(z.number().max(MAX_WAIT_SECONDS, `must be at most ${MAX_WAIT_SECONDS}`))
      .optional()
      .describe(
        `With nothing new, hold the request up to this many seconds (at most ${MAX_WAIT_SECONDS}) for a change`,
      ),
  });

const state = z.enum(JOB_STATES);
const changeSchema = z
  .object({
    cursor: z.string().describe('Resume after this change with `after=<cursor>`'),
    jobId: z.string(),
    userId: z.string().nullable(),
    fromState: state.nullable().describe('null for a job’s first change'),
    toState: state,
    fromFinal: z.boolean().nullable(),
    toFinal: z.boolean(),
    confirmed: z.boolean(),
    fromDecision: z
      .enum(DECISION_VALUES)
      .nullable()
      .describe('The decision’s value before the change; null for a job’s first change'),
    decision: decisionSchema
      .nullable()
      .describe('The job’s decision after the change; null for a change recorded before decisions were made'),
    at: z.string().meta({ format: 'date-time' }),
  })
  .meta({ id: 'Change' });

/**
 * GET /v1/changes: the durable feed of outcome changes (store/feed/change-feed.ts). A consumer that resumes
 * from any cursor it was given neither misses nor repeats a change. Reads and waits are shared by the
 * requests at the same position (long-polls.ts).
 */
export const changeRoutes: FastifyPluginAsyncZod<RouteContext> = async (api, context) => {
  const { changes, cursors } = context;
  // The requests waiting at one position are answered with the same changes (long-polls.ts): each page
  // is presented, its cursors signed, once for all of them.
  const presented = new WeakMap<FeedChange[], z.infer<typeof changeSchema>[]>();
  const present = (items: FeedChange[]) => {
    let page = presented.get(items);
    if (!page) {
      page = items.map((change) => ({
        cursor: cursors.change(change),
        jobId: change.jobId,
        userId: change.userId,
        fromState: change.fromState,
        toState: change.toState,
        fromFinal: change.fromFinal,
        toFinal: change.toFinal,
        confirmed: change.confirmed,
        fromDecision: (change.fromDecision?.value as DecisionValue | undefined) ?? null,
        decision: (change.outcome.decision as z.infer<typeof decisionSchema> | undefined) ?? null,
        at: change.at.toISOString(),
      }));
      presented.set(items, page);
    }
    return page;
  };
  api.get(
    '/v1/changes',
    {
      config: context.routeConfig,
      schema: {
        ...BEARER_ROUTE,
        tags: ['changes'],
        summary: 'Changes of job outcomes, in commit order, resumable by cursor',
        description:
          'Every change of a job’s state, finality or confirmation, of its risk facts and of its decision, without identity ' +
          'data. Changes are listed once every transaction that could precede them has ended, so resuming ' +
          'from any cursor never misses or repeats one. Kept at least `RETENTION_DAYS`.',
        querystring: changesQuerySchema(cursors),
        response: {
          200: z.object({ items: z.array(changeSchema), nextCursor: z.string() }),
          ...errorResponses('INVALID_CURSOR', 'CHANGE_FEED_BUSY'),
        },
      },
    },
    async (request) => {
      const { after = FEED_START, limit = 100, wait = 0 } = request.query;
      const until =
        wait > 0 ? AbortSignal.any([AbortSignal.timeout(wait * 1000), api.shuttingDown]) : undefined;
      const items = await changes.changesAfter(after, limit, until);
      if (items === 'busy') {
        throw new CodedError({ code: 'CHANGE_FEED_BUSY' });
      }
      const page = present(items);
      return {
        items: page,
        nextCursor: page.at(-1)?.cursor ?? cursors.encode('changes', { ...after }),
      };
    },
  );
};
