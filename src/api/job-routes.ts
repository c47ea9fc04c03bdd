import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { PrismaClient } from '../generated/prisma/client.js';
import { HttpError } from '../http/errors.js';
import type { JobRecord } from '../jobs/job-record.js';
import type { Authenticate } from './bearer-auth.js';
import { presentJob } from './present-job.js';

export interface JobRouteOptions {
  prisma: PrismaClient;
  authenticate: Authenticate;
  rateLimitPerMinute: number;
}

const paramsSchema = z.object({ jobId: z.string().min(1).max(200) });
const querySchema = z.strictObject({ include: z.enum(['idInfo']).optional() });

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

/** The internal read API over merged outcomes. */
export async function jobRoutes(
  app: FastifyInstance,
  { prisma, authenticate, rateLimitPerMinute }: JobRouteOptions,
) {
  const rateLimit = { max: rateLimitPerMinute, timeWindow: '1 minute' };

  app.get('/v1/jobs/:jobId', { config: { rateLimit } }, async (request) => {
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
}
