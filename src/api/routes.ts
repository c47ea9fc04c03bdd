import type { FastifyInstance, FastifyRequest } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Authenticate, Caller } from './bearer-auth.js';
import { changeRoutes } from './change-routes.js';
import { eventRoutes } from './event-routes.js';
import { imageRoutes } from './image-routes.js';
import { jobListRoutes } from './job-list-routes.js';
import { jobRoutes } from './job-routes.js';
import { notificationRoutes } from './notification-routes.js';
import { reviewRoutes } from './review-routes.js';
import type { RouteContext } from './route-context.js';
import { submissionRoutes } from './submission-routes.js';
import { userRoutes } from './user-routes.js';
import { validationError } from './validation.js';

/** The services the routes use (built by deps.ts), and how callers are admitted. */
export interface ApiOptions extends Omit<RouteContext, 'callerOf' | 'routeConfig'> {
  authenticate: Authenticate;
  rateLimitPerMinute: number;
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

  const { authenticate: _authenticate, rateLimitPerMinute, ...services } = options;
  const context: RouteContext = {
    ...services,
    callerOf: (request) => {
      const caller = callers.get(request);
      if (!caller) throw new Error('a /v1 route ran without authentication');
      return caller;
    },
    routeConfig: { rateLimit: { max: rateLimitPerMinute, timeWindow: '1 minute' } },
  };
  await api.register(jobRoutes, context);
  await api.register(jobListRoutes, context);
  await api.register(eventRoutes, context);
  await api.register(imageRoutes, context);
  await api.register(userRoutes, context);
  await api.register(reviewRoutes, context);
  await api.register(submissionRoutes, context);
  await api.register(changeRoutes, context);
  await api.register(notificationRoutes, context);
}
