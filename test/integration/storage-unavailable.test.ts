import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resultCallback, simulatedJob } from '../../src/simulator/callbacks.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { postCallback, signed } from '../helpers/callbacks.js';

describe('intake when Postgres cannot store the callback', () => {
  it('answers 503 with Retry-After, quickly, when Postgres is unreachable', async () => {
    const t = await createTestApp({
      env: { DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/nowhere', DATABASE_TIMEOUT_MS: '1000' },
    });
    try {
      const started = Date.now();
      const response = await postCallback(t.app, signed(resultCallback(simulatedJob())));
      expect(response.statusCode).toBe(503);
      expect(response.headers['retry-after']).toBe('5');
      expect(response.json()).toEqual({
        error: { code: 'STORAGE_UNAVAILABLE', message: 'storage is unavailable; retry later' },
      });
      expect(Date.now() - started).toBeLessThan(5000);

      const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(503);
    } finally {
      await t.close();
    }
  });

  describe('when Postgres is too slow', () => {
    let t: TestApp;
    let blocker: pg.Client;
    beforeAll(async () => {
      t = await createTestApp({ env: { DATABASE_TIMEOUT_MS: '500' } });
      blocker = new pg.Client({ connectionString: t.config.DATABASE_URL });
      await blocker.connect();
    });
    afterAll(async () => {
      await blocker.end();
      await t.close();
    });

    it('answers 503 within the bounded time, stores nothing, and accepts the retry once Postgres is back', async () => {
      const body = signed(resultCallback(simulatedJob()));
      // Hold a lock that the callback's write must wait for, as a stalled database would.
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE');
      const started = Date.now();
      const refused = await postCallback(t.app, body);
      const waited = Date.now() - started;
      await blocker.query('ROLLBACK');

      expect(refused.statusCode).toBe(503);
      expect(refused.headers['retry-after']).toBeDefined();
      expect(waited).toBeLessThan(3000);

      const retried = await postCallback(t.app, body);
      expect(retried.statusCode).toBe(200);
      expect(retried.json().status).toBe('accepted');
    });
  });
});
