import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CodedError } from '../http/coded-error.js';
import { auditIdentityRead } from './audited-read.js';
import { presentJob } from './present-job.js';
import { BEARER_ROUTE, type RouteContext } from './route-context.js';
import {
  errorResponses,
  jobIdSchema,
  jobParamsSchema,
  jobSchema,
  positiveInt32,
  text,
  userIdSchema,
} from './schemas.js';

const readQuerySchema = z.strictObject({
  include: z
    .enum(['idInfo'])
    .optional()
    .describe(
      '`idInfo` adds identity data: PII token, or a review token while the job is in review; the read is audited',
    ),
});

const registrationSchema = z.strictObject({
  jobId: jobIdSchema,
  userId: userIdSchema,
  jobType: positiveInt32.optional(),
  idType: text(50).optional(),
  country: text(2, 2).optional(),
});

const notFound = () => new CodedError({ code: 'JOB_NOT_FOUND' });

/** One job: read it, register it, ask for a job_status check now. */
export const jobRoutes: FastifyPluginAsyncZod<RouteContext> = async (api, context) => {
  const { jobs, registrations, now } = context;
  const config = context.routeConfig;

  api.get(
    '/v1/jobs/:jobId',
    {
      config,
      schema: {
        ...BEARER_ROUTE,
        summary: "One job's merged outcome",
        params: jobParamsSchema,
        querystring: readQuerySchema,
        response: { 200: jobSchema, ...errorResponses('PII_FORBIDDEN', 'JOB_NOT_FOUND') },
      },
    },
    async (request) => {
      const { jobId } = request.params;
      if (request.query.include !== 'idInfo') {
        const record = await jobs.read(jobId, { withIdInfo: false });
        if (!record) throw notFound();
        return presentJob(record);
      }
      const recorded = await auditIdentityRead(context, request, jobId, 'idInfo');
      const record = recorded ? await jobs.read(jobId, { withIdInfo: true }) : undefined;
      if (!record) throw notFound();
      return presentJob(record, { withIdInfo: true });
    },
  );

  api.post(
    '/v1/jobs',
    {
      config,
      schema: {
        ...BEARER_ROUTE,
        summary: 'Register a job we expect callbacks for',
        body: registrationSchema,
        response: { 200: jobSchema, 201: jobSchema, ...errorResponses('JOB_CONFLICT') },
      },
    },
    async (request, reply) => {
      const registration = request.body;
      const result = await registrations.register(registration, now());
      if (result === 'conflict') throw new CodedError({ code: 'JOB_CONFLICT' });
      const record = await jobs.read(registration.jobId, { withIdInfo: false });
      if (!record) throw new Error('a registered job could not be read back');
      return reply.code(result === 'created' ? 201 : 200).send(presentJob(record));
    },
  );

  api.post(
    '/v1/jobs/:jobId/reconcile',
    {
      config,
      schema: {
        ...BEARER_ROUTE,
        summary: 'Check the job with Smile ID job_status now',
        params: jobParamsSchema,
        response: {
          202: z.object({ status: z.enum(['queued', 'scheduled']), jobId: z.string() }),
          ...errorResponses('JOB_NOT_FOUND'),
        },
      },
    },
    async (request, reply) => {
      const { jobId } = request.params;
      if (!(await registrations.requestCheck(jobId, now()))) throw notFound();
      // Postgres already says the job is due; queueing now only saves the sweep interval.
      const queued = await context.enqueueCheck(jobId).then(
        () => true,
        (error: unknown) => {
          request.log.warn({ err: error, jobId }, 'could not queue the check now; the sweeper will');
          return false;
        },
      );
      return reply.code(202).send({ status: queued ? 'queued' : 'scheduled', jobId });
    },
  );
};
