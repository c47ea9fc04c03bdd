import type { FastifyInstance } from 'fastify';
import type { Metrics } from './metrics.js';
import type { createScrapeGauges } from './scrape-gauges.js';

/**
 * Times every request by its route template (never the raw path, which holds job ids) and serves
 * GET /metrics. Added to the root instance so that every route is measured.
 */
export function instrumentHttp(
  app: FastifyInstance,
  { metrics, gauges }: { metrics: Metrics; gauges: ReturnType<typeof createScrapeGauges> },
) {
  app.addHook('onResponse', async (request, reply) => {
    metrics.httpRequestDuration.observe(
      {
        route: request.routeOptions.url ?? 'unmatched',
        method: request.method,
        status_code: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });

  app.get('/metrics', { logLevel: 'warn' }, async (_request, reply) => {
    await gauges.refresh();
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
}
