import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { createBearerAuth } from './api/bearer-auth.js';
import { registerDocs } from './api/docs.js';
import { apiRoutes } from './api/routes.js';
import { createIntake } from './callbacks/intake.js';
import { callbackRoutes } from './callbacks/routes.js';
import type { Config } from './config.js';
import { handleClientError } from './http/client-errors.js';
import { drainOnClose } from './http/draining.js';
import { handleError, handleNotFound } from './http/errors.js';
import { healthRoutes } from './http/health-routes.js';
import { instrumentHttp } from './observability/http-metrics.js';
import type { Metrics } from './observability/metrics.js';
import { createScrapeGauges, type QueueCounter } from './observability/scrape-gauges.js';
import type { FieldCipher } from './security/field-cipher.js';
import { createJobStatusClient, type JobStatusClient } from './smileid/job-status-client.js';
import { createCallbackStore } from './store/callback-store.js';
import type { Database } from './store/connections.js';
import { createRegistrations } from './store/registrations.js';

/** Smile ID may redeliver a genuine callback late: give its own confirmation a moment to come first. */
const UNTRUSTED_CHECK_DELAY_MS = 2000;

export interface AppDependencies {
  config: Config;
  logger: FastifyBaseLogger;
  db: Pick<Database, 'pool' | 'prisma'>;
  /** Rate-limit store; without it, limits are kept in process memory. */
  redis?: Redis;
  /** Queues a status check at once (POST /v1/jobs/:jobId/reconcile). */
  enqueueCheck?: (jobId: string) => Promise<void>;
  /** Readiness checks beyond Postgres, e.g. the workers' Redis. */
  readinessChecks?: Record<string, () => Promise<unknown>>;
  /** Smile ID's job_status, for the image links route; without it, one is made from the config. */
  jobStatus?: Pick<JobStatusClient, 'fetchStatus'>;
  /** Seals identity data at rest. */
  cipher: FieldCipher;
  /** This instance's metrics; without them, nothing is measured and /metrics is absent. */
  metrics?: Metrics;
  /** Queues whose depth /metrics reports. */
  queues?: readonly QueueCounter[];
  now?: () => Date;
}

/**
 * Builds the HTTP application: infrastructure plugins, then services, then routes. It never listens and
 * never reads the environment; main.ts does both. Closing it closes nothing it was given. A worker-only
 * process serves health endpoints alone.
 */
export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const { config, logger, db, redis, now = () => new Date() } = deps;
  const app = Fastify({
    loggerInstance: logger,
    trustProxy: config.TRUST_PROXY,
    requestTimeout: 60_000,
    genReqId: () => crypto.randomUUID(),
    // Job ids up to 200 characters must fit in a path parameter.
    routerOptions: { maxParamLength: 256 },
    // Errors raised before routing (bad URL encoding, oversized parameters) get our error shape too.
    frameworkErrors: handleError,
    // And those of Node's HTTP parser: headers too large, Content-Length lies, bytes that are not HTTP.
    clientErrorHandler: handleClientError,
    // Closing ends idle keep-alive connections; drainOnClose answers requests that arrive meanwhile.
    forceCloseConnections: 'idle',
    return503OnClosing: false,
  });
  app.setErrorHandler(handleError);
  app.setNotFoundHandler(handleNotFound);
  // Every route speaks JSON: a text body is a 415, not a string that fails validation or is ignored.
  app.removeContentTypeParser('text/plain');
  drainOnClose(app);

  await app.register(rateLimit, {
    global: false,
    redis,
    nameSpace: `${config.REDIS_PREFIX}:rate-limit:`,
    // Limits protect the service; they must not take intake down with Redis.
    skipOnError: true,
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      code: 'RATE_LIMITED',
      message: `rate limit of ${context.max} requests per ${context.after} exceeded`,
    }),
  });

  const { metrics } = deps;
  if (metrics) {
    instrumentHttp(app, {
      metrics,
      gauges: createScrapeGauges({ pool: db.pool, metrics, queues: deps.queues ?? [] }),
    });
  }

  await app.register(healthRoutes, {
    timeoutMs: 2000,
    readinessChecks: { postgres: () => db.pool.query('SELECT 1'), ...deps.readinessChecks },
  });
  if (config.ROLE === 'worker') return app;
  // Before the routes it documents: it collects them as they are added.
  if (config.DOCS_ENABLED) await registerDocs(app);

  const intake = createIntake({
    store: createCallbackStore({
      pool: db.pool,
      cipher: deps.cipher,
      options: {
        untrustedBodyQuotaPerHour: config.UNTRUSTED_BODY_QUOTA_PER_HOUR,
        untrustedCheckDelayMs: UNTRUSTED_CHECK_DELAY_MS,
      },
    }),
    now,
    cipher: deps.cipher,
    metrics,
    options: {
      partnerId: config.SMILE_PARTNER_ID,
      apiKeys: config.SMILE_API_KEYS,
      timestampToleranceMs: config.CALLBACK_TIMESTAMP_TOLERANCE_SECONDS * 1000,
      futureSkewMs: config.CALLBACK_FUTURE_SKEW_SECONDS * 1000,
    },
  });
  await app.register(callbackRoutes, {
    intake,
    maxBytes: config.CALLBACK_MAX_BYTES,
    allowedSources: config.CALLBACK_ALLOWED_CIDRS,
    rateLimitPerMinute: config.CALLBACK_RATE_LIMIT_PER_MINUTE,
    metrics,
  });
  await app.register(apiRoutes, {
    pool: db.pool,
    cipher: deps.cipher,
    registrations: createRegistrations({ prisma: db.prisma }),
    jobStatus:
      deps.jobStatus ??
      createJobStatusClient({
        baseUrl: config.SMILE_API_BASE_URL,
        partnerId: config.SMILE_PARTNER_ID,
        apiKeys: config.SMILE_API_KEYS,
        timeoutMs: config.SMILE_API_TIMEOUT_MS,
      }),
    authenticate: createBearerAuth({
      apiTokens: config.INTERNAL_API_TOKENS,
      piiTokens: config.INTERNAL_PII_TOKENS,
    }),
    enqueueCheck: deps.enqueueCheck ?? (async () => undefined),
    horizonMs: config.RECONCILE_HORIZON_HOURS * 3600_000,
    rateLimitPerMinute: config.API_RATE_LIMIT_PER_MINUTE,
    now,
  });
  return app;
}
