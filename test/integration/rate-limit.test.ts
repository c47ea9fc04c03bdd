import { describe, expect, it } from 'vitest';
import { resultCallback, simulatedJob } from '../../src/simulator/callbacks.js';
import { createTestApp } from '../helpers/app.js';
import { postCallback, signed } from '../helpers/callbacks.js';

describe('rate limiting of callbacks', () => {
  it('answers 429 RATE_LIMITED past the limit, counted in Redis', async () => {
    const t = await createTestApp({ withRedis: true, env: { CALLBACK_RATE_LIMIT_PER_MINUTE: '2' } });
    try {
      // Each test app's limit key is the client address; clear it so earlier runs do not count.
      await t.app.inject({ method: 'GET', url: '/healthz' });
      const remoteAddress = `10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.7`;
      const send = () =>
        t.app.inject({
          method: 'POST',
          url: '/callbacks/smile-id',
          remoteAddress,
          headers: { 'content-type': 'application/json' },
          payload: JSON.stringify(signed(resultCallback(simulatedJob()))),
        });
      expect((await send()).statusCode).toBe(200);
      expect((await send()).statusCode).toBe(200);
      const limited = await send();
      expect(limited.statusCode).toBe(429);
      expect(limited.json().error.code).toBe('RATE_LIMITED');
    } finally {
      await t.close();
    }
  });

  it('still accepts callbacks when Redis is down, since storage is Postgres', async () => {
    const t = await createTestApp({
      withRedis: true,
      env: { REDIS_URL: 'redis://127.0.0.1:1', CALLBACK_RATE_LIMIT_PER_MINUTE: '1' },
    });
    try {
      for (let i = 0; i < 3; i += 1) {
        const response = await postCallback(t.app, signed(resultCallback(simulatedJob())));
        expect(response.statusCode).toBe(200);
        expect(response.json().status).toBe('accepted');
      }
    } finally {
      await t.close();
    }
  });
});
