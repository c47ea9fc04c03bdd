import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance } from 'fastify';
import { registerDocs } from './api/docs.js';
import { apiRoutes } from './api/routes.js';
import type { AppDependencies } from './app-dependencies.js';
import { callbackRoutes } from './callbacks/routes.js';
import { MAX_ID_LENGTH } from './domain/identifiers.js';
import { handleClientError } from './http/client-errors.js';
import { CodedError } from './http/coded-error.js';
import { drainOnClose } from './http/draining.js';
import { handleError, handleNotFound } from './http/errors.js';
import { healthRoutes } from './http/health-routes.js';
import { instrumentHttp } from './observability/http-metrics.js';
import { createScrapeGauges } from './observability/scrape-gauges.js';

/**
 * Builds the HTTP application: infrastructure plugins, then services, then routes. It never listens and
 * never reads the environment; main.ts does both. Closing it closes nothing it was given.
 */
export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const { config, logger, redis, services } = deps;
  const app = Fastify({
    loggerInstance: logger,
    trustProxy: config.TRUST_PROXY,
    requestTimeout: 60_000,
    genReqId: () => crypto.randomUUID(),
    // Every id the API accepts must fit in a path parameter, measured (decoded) in UTF-16 units: a
    // code point is at most two. A longer parameter is too long as an id as well (414 PATH_TOO_LONG).
    routerOptions: { maxParamLength: 2 * MAX_ID_LENGTH },
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
    // Thrown by the plugin, after it has set Retry-After and the limit's headers.
    errorResponseBuilder: () => new CodedError({ code: 'RATE_LIMITED' }),
  });

  const { metrics, gauges } = deps;
  if (metrics) {
    instrumentHttp(app, {
      metrics,
      gauges: createScrapeGauges({
        gauges: gauges ?? {
          jobCounts: async () => [],
          reviewQueue: async () => ({ jobs: 0, oldestSeconds: 0 }),
          submissionCounts: async () => [],
          notificationCounts: async () => ({
            pending: 0,
            oldestPendingSeconds: 0,
            dead: 0,
            disabledEndpoints: 0,
            retiredEndpoints: 0,
          }),
          changeFeedHeldBack: async () => 0,
        },
        metrics,
        queues: deps.queues ?? [],
        reviewSlaSeconds: config.REVIEW_SLA_HOURS * 3600,
      }),
    });
  }

  await app.register(healthRoutes, { timeoutMs: 2000, readinessChecks: deps.readinessChecks });
  if (!services) return app;
  // Before the routes it documents: it collects them as they are added.
  if (config.DOCS_ENABLED) await registerDocs(app);

  await app.register(callbackRoutes, {
    intake: services.intake,
    maxBytes: config.CALLBACK_MAX_BYTES,
    allowedSources: config.CALLBACK_ALLOWED_CIDRS,
    rateLimitPerMinute: config.CALLBACK_RATE_LIMIT_PER_MINUTE,
    metrics,
  });
  await app.register(apiRoutes, services.api);
  return app;
}
