import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { JOB_STATES } from '../domain/facets.js';
import { FEED_START } from '../store/change-feed.js';
import { changeCursor, cursorSchema, encodeCursor, feedCursorPayload } from './cursor.js';
import { BEARER_ROUTE, type RouteContext } from './route-context.js';
import { commonErrors, queryLimit } from './schemas.js';

const MIN_LOOK_AGAIN_MS = 50;
const MAX_LOOK_AGAIN_MS = 1000;

/** Longest a request may wait for a change. */
export const MAX_WAIT_SECONDS = 30;

const changesQuerySchema = z.strictObject({
  after: cursorSchema(feedCursorPayload)
    .optional()
    .describe('`nextCursor` (or an item’s `cursor`) already seen; absent: from the oldest change kept'),
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
    at: z.string().meta({ format: 'date-time' }),
  })
  .meta({ id: 'Change' });

/**
 * GET /v1/changes: the durable feed of outcome changes (store/change-feed.ts). A consumer that resumes
 * from any cursor it was given neither misses nor repeats a change.
 */
export const changeRoutes: FastifyPluginAsyncZod<RouteContext> = async (api, context) => {
  const { changes } = context;
  api.get(
    '/v1/changes',
    {
      config: context.routeConfig,
      schema: {
        ...BEARER_ROUTE,
        tags: ['changes'],
        summary: 'Changes of job outcomes, in commit order, resumable by cursor',
        description:
          'Every change of a job’s state, finality or confirmation (and of its risk facts), without identity ' +
          'data. Changes are listed once every transaction that could precede them has ended, so resuming ' +
          'from any cursor never misses or repeats one. Kept at least `RETENTION_DAYS`.',
        querystring: changesQuerySchema,
        response: {
          200: z.object({ items: z.array(changeSchema), nextCursor: z.string() }),
          ...commonErrors,
        },
      },
    },
    async (request) => {
      const { after = FEED_START, limit = 100, wait = 0 } = request.query;
      const deadline = AbortSignal.any([AbortSignal.timeout(wait * 1000), api.shuttingDown]);
      let changed = changes.watch();
      let items = await changes.feed.read(after, limit);
      // Woken by a commit, yet an older transaction still running (in any database of the server) may
      // hide that change a moment longer: then look again soon, backing off, until the deadline.
      let lookAgainMs = 0;
      while (items.length === 0 && wait > 0 && !deadline.aborted) {
        const until =
          lookAgainMs > 0 ? AbortSignal.any([deadline, AbortSignal.timeout(lookAgainMs)]) : deadline;
        await changed(until);
        changed = changes.watch();
        items = await changes.feed.read(after, limit);
        lookAgainMs = Math.min(MAX_LOOK_AGAIN_MS, Math.max(MIN_LOOK_AGAIN_MS, lookAgainMs * 2));
      }
      return {
        items: items.map((change) => ({
          cursor: changeCursor(change),
          jobId: change.jobId,
          userId: change.userId,
          fromState: change.fromState,
          toState: change.toState,
          fromFinal: change.fromFinal,
          toFinal: change.toFinal,
          confirmed: change.confirmed,
          at: change.at.toISOString(),
        })),
        nextCursor: items.length > 0 ? changeCursor(items.at(-1)!) : encodeCursor({ ...after }),
      };
    },
  );
};
