import type { FastifyInstance, FastifyRequest } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type pg from 'pg';
import type { FieldCipher } from '../security/field-cipher.js';
import type { JobStatusClient } from '../smileid/job-status-client.js';
import { createAuditLog } from '../store/audit-log.js';
import { createEventQueries } from '../store/event-queries.js';
import { createJobQueries } from '../store/job-queries.js';
import type { Registrations } from '../store/registrations.js';
import type { Authenticate, Caller } from './bearer-auth.js';
import { eventRoutes } from './event-routes.js';
import { imageRoutes } from './image-routes.js';
import { jobListRoutes } from './job-list-routes.js';
import { jobRoutes } from './job-routes.js';
import type { RouteContext } from './route-context.js';
import { validationError } from './validation.js';

export interface ApiOptions {
  pool: pg.Pool;
  /** Opens identity data for PII readers (identity-data.ts). */
  cipher: FieldCipher;
  registrations: Registrations;
  /** Smile ID's job_status, for reads that ask it at request time (image links). */
  jobStatus: Pick<JobStatusClient, 'fetchStatus'>;
  authenticate: Authenticate;
  /** Queues a status check now; may fail when Redis is down (the check then runs when due). */
  enqueueCheck: (jobId: string) => Promise<void>;
  horizonMs: number;
  rateLimitPerMinute: number;
  now: () => Date;
}

/**
 * The internal /v1 API. Every route declares zod schemas for what it takes and gives, through Fastify's
 * type provider; those schemas validate, serialize and document (see docs.ts). Each request is rate
 * limited first (onRequest), then authenticated, before any of it is parsed or validated, so a caller
 * without a token learns nothing about the API but 401.
 */
export async function apiRoutes(app: FastifyInstance, options: ApiOptions) {
  const api = app.withTypeProvider<ZodTypeProvider>();
  api.setValidatorCompiler(validatorCompiler);
  api.setSerializerCompiler(serializerCompiler);
  api.setSchemaErrorFormatter(validationError);

  const callers = new WeakMap<FastifyRequest, Caller>();
  api.addHook('preParsing', async (request, _reply, payload) => {
    callers.set(request, options.authenticate(request));
    return payload;
  });

  const context: RouteContext = {
    jobs: createJobQueries({ pool: options.pool }),
    events: createEventQueries({ pool: options.pool }),
    audit: createAuditLog({ pool: options.pool, now: options.now }),
    cipher: options.cipher,
    registrations: options.registrations,
    jobStatus: options.jobStatus,
    enqueueCheck: options.enqueueCheck,
    horizonMs: options.horizonMs,
    now: options.now,
    callerOf: (request) => {
      const caller = callers.get(request);
      if (!caller) throw new Error('a /v1 route ran without authentication');
      return caller;
    },
    routeConfig: { rateLimit: { max: options.rateLimitPerMinute, timeWindow: '1 minute' } },
  };
  await api.register(jobRoutes, context);
  await api.register(jobListRoutes, context);
  await api.register(eventRoutes, context);
  await api.register(imageRoutes, context);
}
