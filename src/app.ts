import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { createBearerAuth } from './api/bearer-auth.js';
import { jobRoutes } from './api/job-routes.js';
import { createIntake } from './callbacks/intake.js';
import { callbackRoutes } from './callbacks/routes.js';
import type { Config } from './config.js';
import type { Database } from './db/connections.js';
import { handleError, handleNotFound } from './http/errors.js';
import { healthRoutes } from './http/health-routes.js';
import { createCallbackStore } from './jobs/callback-store.js';

export interface AppDependencies {
  config: Config;
  logger: FastifyBaseLogger;
  db: Pick<Database, 'pool' | 'prisma'>;
  /** Rate-limit store; without it, limits are kept in process memory. */
  redis?: Redis;
  now?: () => Date;
}

/**
 * Builds the HTTP application: infrastructure plugins, then services, then routes. It never listens and
 * never reads the environment; main.ts does both. Closing it closes nothing it was given.
 */
export async function buildApp({
  config,
  logger,
  db,
  redis,
  now = () => new Date(),
}: AppDependencies): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger,
    trustProxy: config.TRUST_PROXY,
    requestTimeout: 60_000,
    genReqId: () => crypto.randomUUID(),
  });
  app.setErrorHandler(handleError);
  app.setNotFoundHandler(handleNotFound);

  await app.register(rateLimit, {
    global: false,
    redis,
    nameSpace: 'smileid-callbacks:rate-limit:',
    // Limits protect the service; they must not take intake down with Redis.
    skipOnError: true,
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      code: 'RATE_LIMITED',
      message: `rate limit of ${context.max} requests per ${context.after} exceeded`,
    }),
  });

  const store = createCallbackStore({ pool: db.pool });
  const intake = createIntake({
    store,
    now,
    options: {
      partnerId: config.SMILE_PARTNER_ID,
      apiKeys: config.SMILE_API_KEYS,
      timestampToleranceMs: config.CALLBACK_TIMESTAMP_TOLERANCE_SECONDS * 1000,
    },
  });
  const authenticate = createBearerAuth({
    apiTokens: config.INTERNAL_API_TOKENS,
    piiTokens: config.INTERNAL_PII_TOKENS,
  });

  await app.register(healthRoutes, {
    timeoutMs: 2000,
    readinessChecks: {
      postgres: () => db.pool.query('SELECT 1'),
      ...(redis && config.ROLE !== 'api' ? { redis: () => redis.ping() } : {}),
    },
  });
  await app.register(callbackRoutes, {
    intake,
    maxBytes: config.CALLBACK_MAX_BYTES,
    allowedSources: config.CALLBACK_ALLOWED_CIDRS,
    rateLimitPerMinute: config.CALLBACK_RATE_LIMIT_PER_MINUTE,
  });
  await app.register(jobRoutes, {
    prisma: db.prisma,
    authenticate,
    rateLimitPerMinute: config.API_RATE_LIMIT_PER_MINUTE,
  });
  return app;
}
