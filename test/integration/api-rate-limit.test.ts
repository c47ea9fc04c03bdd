import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { API_TOKEN, createTestApp } from '../helpers/app.js';
import { expectErrorBody } from '../helpers/http.js';
import { bearer } from '../http/api-fixtures.js';

describe('rate limiting of the /v1 API', () => {
  it.each([
    ['GET /v1/jobs', 'GET', '/v1/jobs'],
    ['GET /v1/jobs/:jobId', 'GET', '/v1/jobs/some-job'],
    ['GET /v1/jobs/:jobId/events', 'GET', '/v1/jobs/some-job/events'],
    ['POST /v1/jobs/:jobId/reconcile', 'POST', '/v1/jobs/some-job/reconcile'],
  ] as const)(
    'answers 429 RATE_LIMITED on %s past the limit, counted in Redis, token or not',
    async (_name, method, url) => {
      const t = await createTestApp({ withRedis: true, env: { API_RATE_LIMIT_PER_MINUTE: '2' } });
      try {
        const remoteAddress = `10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.9`;
        const send = (headers: Record<string, string>) =>
          t.app.inject({ method, url, remoteAddress, headers });
        expect((await send(bearer(API_TOKEN))).statusCode).not.toBe(429);
        // Unauthenticated requests count too: the limit comes before the token check.
        expect((await send({})).statusCode).toBe(401);
        expectErrorBody(await send(bearer(API_TOKEN)), 429, 'RATE_LIMITED');
        expectErrorBody(await send({}), 429, 'RATE_LIMITED');
        const redis = new Redis(t.config.REDIS_URL);
        try {
          expect(await redis.keys(`${t.config.REDIS_PREFIX}:rate-limit:*`)).not.toEqual([]);
        } finally {
          redis.disconnect();
        }
      } finally {
        await t.close();
      }
    },
  );
});
