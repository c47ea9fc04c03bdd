import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requirePiiAccess } from './bearer-auth.js';
import { BEARER_ROUTE, type RouteContext } from './route-context.js';
import { errorResponses, userIdSchema } from './schemas.js';

const erasedSchema = z.object({
  userId: z.string(),
  jobs: z.number().int().describe("The user's jobs: their outcomes, codes, digests and times remain"),
  idInfo: z.number().int().describe("ID authority's records erased"),
  callbackBodies: z
    .number()
    .int()
    .describe("Stored callback bodies erased: the jobs' and those naming the user with no job"),
  statusBodies: z.number().int().describe('Stored job_status answers erased'),
  submissions: z
    .number()
    .int()
    .describe('Submissions whose sealed identity data and images were erased (one not yet uploaded fails)'),
  objects: z
    .number()
    .int()
    .describe('Photos and other bulky strings of the erased bodies removed from the object store'),
});

/** DELETE /v1/users/:userId/identity-data: erasure on request, the same erasure retention applies by age. */
export const userRoutes: FastifyPluginAsyncZod<RouteContext> = async (api, context) => {
  api.delete(
    '/v1/users/:userId/identity-data',
    {
      config: context.routeConfig,
      schema: {
        ...BEARER_ROUTE,
        summary: "Erase a user's identity data from every job of theirs",
        description:
          'PII token only; audited (one row per job). Erases the ID records, every stored callback and ' +
          "job_status body (their photos in the object store too), and submissions' identity data and images; " +
          'outcomes, codes, digests and times remain. ' +
          'Also erases callback bodies naming the user that are stored with no job. The jobs stay erased: ' +
          'whatever arrives for them later is stored without its body. Answers 200 with zeros when the user ' +
          'has nothing to erase, so it can be repeated safely; should the object store not answer, everything in ' +
          'Postgres is erased all the same, the answer is `503 OBJECT_STORE_UNAVAILABLE`, and a repeat removes the photos.',
        params: z.strictObject({ userId: userIdSchema }),
        response: { 200: erasedSchema, ...errorResponses('PII_FORBIDDEN', 'OBJECT_STORE_UNAVAILABLE') },
      },
    },
    async (request) => {
      const caller = context.callerOf(request);
      requirePiiAccess(caller);
      const { userId } = request.params;
      const erased = await context.eraseUserIdentityData({
        userId,
        at: context.now(),
        fingerprint: caller.fingerprint,
        route: `${request.method} ${request.routeOptions.url}`,
        requestId: request.id,
      });
      request.log.info({ erased: { ...erased } }, "user's identity data erased on request");
      return { userId, ...erased };
    },
  );
};
