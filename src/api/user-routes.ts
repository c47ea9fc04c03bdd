import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { JOB_STATES } from '../domain/facets.js';
import { CodedError } from '../http/coded-error.js';
import type { UserOverview } from '../store/jobs/user-queries.js';
import { requirePiiAccess } from './bearer-auth.js';
import { presentDecision } from './present-job.js';
import { BEARER_ROUTE, type RouteContext } from './route-context.js';
import { decisionSchema, errorResponses, userIdSchema } from './schemas.js';

/** The user's newest jobs shown; the rest are listed by GET /v1/jobs?userId=. */
const RECENT_JOBS = 100;

const dateTime = z.string().meta({ format: 'date-time' });

const userJobSchema = z.object({
  jobId: z.string(),
  jobType: z.number().int().nullable(),
  state: z.enum(JOB_STATES),
  isFinal: z.boolean(),
  confirmed: z.boolean(),
  stale: z.boolean(),
  resultCode: z.string().nullable(),
  resultText: z.string().nullable(),
  decision: decisionSchema,
  createdAt: dateTime,
  updatedAt: dateTime,
  finalizedAt: dateTime.nullable(),
});

const userSchema = z
  .object({
    userId: z.string(),
    verified: z.boolean().describe('A job of the user is approved now (its decision is `approve`)'),
    verifiedBy: z
      .object({
        jobId: z.string(),
        since: dateTime.describe('When that job’s decision became `approve`'),
        source: z.enum(['policy', 'operator']).describe('Approved by the policy, or by a person'),
      })
      .nullable()
      .describe('Of the jobs approved now, the one approved first; null when the user is not verified'),
    jobCount: z.number().int().describe('Every job of the user'),
    jobs: z
      .array(userJobSchema)
      .describe(`The user’s ${RECENT_JOBS} newest jobs, newest first; the rest through GET /v1/jobs?userId=`),
    risk: z
      .object({
        idNumberPreviouslyRegistered: z
          .boolean()
          .nullable()
          .describe(
            '`true` when the ID record of any job said the ID number was registered before; `false` when some ' +
              'said not and none said so; `null` when none said',
          ),
        previousRegistrantUserIds: z
          .array(z.string())
          .describe(
            'The other users Smile ID named as having registered the ID number before, across every job',
          ),
        suspectUsers: z
          .array(z.object({ userId: z.string(), reason: z.string().nullable() }))
          .describe('The users Smile Secure named as suspects on any job, once each'),
      })
      .describe('Risk facts across every job of the user'),
  })
  .meta({ id: 'User', description: 'A user’s verification at a glance; no identity data' });

function presentUser(userId: string, overview: UserOverview): z.infer<typeof userSchema> {
  const { verifiedBy } = overview;
  return {
    userId,
    verified: verifiedBy !== null,
    verifiedBy: verifiedBy && {
      jobId: verifiedBy.jobId,
      since: verifiedBy.decidedAt.toISOString(),
      source: verifiedBy.source,
    },
    jobCount: overview.jobCount,
    jobs: overview.recentJobs.map((job) => ({
      ...job,
      decision: presentDecision(job.decision),
      createdAt: job.createdAt.toISOString(),
      updatedAt: job.updatedAt.toISOString(),
      finalizedAt: job.finalizedAt?.toISOString() ?? null,
    })),
    risk: {
      idNumberPreviouslyRegistered: overview.idNumberPreviouslyRegistered,
      previousRegistrantUserIds: overview.previousRegistrantUserIds,
      suspectUsers: overview.suspectUsers,
    },
  };
}

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

/**
 * GET /v1/users/:userId: what internal services mostly ask of a user, from every job of theirs.
 * DELETE /v1/users/:userId/identity-data: erasure on request, the same erasure retention applies by age.
 */
export const userRoutes: FastifyPluginAsyncZod<RouteContext> = async (api, context) => {
  api.get(
    '/v1/users/:userId',
    {
      config: context.routeConfig,
      schema: {
        ...BEARER_ROUTE,
        tags: ['users'],
        summary: 'A user’s verification: verified or not, by which job, since when; their jobs; risk facts',
        description:
          'Verified means a job of the user is approved now; its decision says why and by whom. No identity ' +
          'data: what any API token may see of the user’s jobs.',
        params: z.strictObject({ userId: userIdSchema }),
        response: { 200: userSchema, ...errorResponses('USER_NOT_FOUND') },
      },
    },
    async (request) => {
      const { userId } = request.params;
      const overview = await context.users.overview(userId, RECENT_JOBS);
      if (!overview) throw new CodedError({ code: 'USER_NOT_FOUND' });
      return presentUser(userId, overview);
    },
  );

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
