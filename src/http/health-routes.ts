import type { FastifyInstance } from 'fastify';
import { withTimeout } from '../util/with-timeout.js';

export interface HealthRouteOptions {
  /** Each named check resolves when its dependency answers and rejects otherwise. */
  readinessChecks: Record<string, () => Promise<unknown>>;
  timeoutMs: number;
}

export async function healthRoutes(app: FastifyInstance, { readinessChecks, timeoutMs }: HealthRouteOptions) {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const results = await Promise.all(
      Object.entries(readinessChecks).map(async ([name, check]) => {
        try {
          await withTimeout(check(), timeoutMs, name);
          return [name, 'ok'] as const;
        } catch {
          return [name, 'unavailable'] as const;
        }
      }),
    );
    const ready = results.every(([, status]) => status === 'ok');
    return reply
      .code(ready ? 200 : 503)
      .send({ status: ready ? 'ready' : 'unavailable', checks: Object.fromEntries(results) });
  });
}
