import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { PrismaClient } from '../generated/prisma/client.js';
import { HttpError } from '../http/errors.js';
import type { JobRecord } from '../jobs/job-record.js';
import { emptyOutcome } from '../jobs/outcome.js';
import type { Registrations } from '../jobs/registration.js';
import { nextCheck } from '../reconcile/schedule.js';
import type { Authenticate } from './bearer-auth.js';
import { presentJob } from './present-job.js';

export interface JobRouteOptions {
  prisma: PrismaClient;
  registrations: Registrations;
  authenticate: Authenticate;
  /** Queues a status check now; may fail when Redis is down (the check then runs when due). */
  enqueueCheck: (jobId: string) => Promise<void>;
  horizonMs: number;
  rateLimitPerMinute: number;
  now: () => Date;
}

const jobIdSchema = z.string().min(1).max(200);
const paramsSchema = z.object({ jobId: jobIdSchema });
const querySchema = z.strictObject({ include: z.enum(['idInfo']).optional() });
const registrationSchema = z.strictObject({
  jobId: jobIdSchema,
  userId: z.string().min(1).max(200),
  jobType: z.number().int().positive().optional(),
  idType: z.string().min(1).max(50).optional(),
  country: z.string().length(2).optional(),
});

function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new HttpError(
      400,
      'VALIDATION_FAILED',
      `${where}: ${issue?.path.join('.') || 'value'} ${issue?.message ?? 'is invalid'}`,
    );
  }
  return parsed.data;
}

/** The internal API over merged outcomes: read a job, register one, ask for a check now. */
export async function jobRoutes(app: FastifyInstance, options: JobRouteOptions) {
  const { prisma, registrations, authenticate, now } = options;
  const config = { rateLimit: { max: options.rateLimitPerMinute, timeWindow: '1 minute' } };

  app.get('/v1/jobs/:jobId', { config }, async (request) => {
    const access = authenticate(request);
    const { jobId } = parseOrThrow(paramsSchema, request.params, 'path');
    const { include } = parseOrThrow(querySchema, request.query, 'query');
    const includeIdInfo = include === 'idInfo';
    if (includeIdInfo && access !== 'pii') {
      throw new HttpError(403, 'PII_FORBIDDEN', 'this token may not read identity data');
    }
    const record = await prisma.job.findUnique({ where: { jobId } });
    if (!record) throw new HttpError(404, 'JOB_NOT_FOUND', 'no job with this id');
    return presentJob(record as JobRecord, { includeIdInfo });
  });

  app.post('/v1/jobs', { config }, async (request, reply) => {
    authenticate(request);
    const registration = parseOrThrow(registrationSchema, request.body, 'body');
    const registeredAt = now();
    const first = nextCheck(emptyOutcome(registration.jobId), registeredAt, registeredAt, options.horizonMs);
    const firstCheckAt = 'at' in first ? first.at : registeredAt;
    const result = await registrations.register(registration, registeredAt, firstCheckAt);
    if (result === 'conflict') {
      throw new HttpError(409, 'JOB_CONFLICT', 'this job id is already known for another user');
    }
    const record = await prisma.job.findUniqueOrThrow({ where: { jobId: registration.jobId } });
    return reply
      .code(result === 'created' ? 201 : 200)
      .send(presentJob(record as JobRecord, { includeIdInfo: false }));
  });

  app.post('/v1/jobs/:jobId/reconcile', { config }, async (request, reply) => {
    authenticate(request);
    const { jobId } = parseOrThrow(paramsSchema, request.params, 'path');
    if (!(await registrations.requestCheck(jobId, now()))) {
      throw new HttpError(404, 'JOB_NOT_FOUND', 'no job with this id');
    }
    // Postgres already says the job is due; queueing now only saves the sweep interval.
    const queued = await options.enqueueCheck(jobId).then(
      () => true,
      (error: unknown) => {
        request.log.warn({ err: error, jobId }, 'could not queue the check now; the sweeper will');
        return false;
      },
    );
    return reply.code(202).send({ status: queued ? 'queued' : 'scheduled', jobId });
  });
}
