import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/observability/metrics.js';
import { createFieldCipher, parseKeyring, sealContext } from '../../src/security/field-cipher.js';
import { idInfoCallback, resultCallback, simulatedJob } from '../../src/simulator/callbacks.js';
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

  describe('when a stored value cannot be opened', () => {
    const metrics = createMetrics({ defaultMetrics: false });
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ metrics });
    });
    afterAll(() => t.close());

    it('answers 500 CALLBACK_NOT_STORED without Retry-After, logs the error class and message, and counts it', async () => {
      // The probe that found it: id_info sealed under a key id no longer configured answered 503 and
      // "retry later", logged with no class or message, so Smile ID would have retried for ever.
      const job = simulatedJob();
      expect((await postCallback(t.app, signed(resultCallback(job, 'provisional')))).statusCode).toBe(200);
      const retired = createFieldCipher(parseKeyring([`retired-key:${randomBytes(32).toString('base64')}`]));
      await t.db.pool.query('UPDATE jobs SET id_info = $2, version = version + 1 WHERE job_id = $1', [
        job.jobId,
        retired.sealJson({ idNumber: job.idNumber, fullName: job.fullName }, sealContext.idInfo(job.jobId)),
      ]);

      const answer = await postCallback(t.app, signed(idInfoCallback(job)));
      expect(answer.statusCode, answer.body).toBe(500);
      expect(answer.headers['retry-after']).toBeUndefined();
      expect(answer.json()).toEqual({
        error: { code: 'CALLBACK_NOT_STORED', message: 'the callback could not be stored' },
      });

      const fault = t
        .logs()
        .split('\n')
        .find((line) => line.includes('callback not stored'));
      expect(fault).toBeDefined();
      expect(JSON.parse(fault!)).toMatchObject({
        level: 50,
        jobId: job.jobId,
        err: { type: 'KeyringError', message: expect.stringContaining('no key retired-key') },
      });
      expect(t.logs()).not.toContain('storage unavailable');
      for (const identity of [job.idNumber, job.fullName]) expect(t.logs()).not.toContain(identity);

      const text = await metrics.registry.metrics();
      expect(text).toContain('smileid_callback_rejections_total{reason="CALLBACK_NOT_STORED"} 1');
      const events = await t.db.pool.query(
        'SELECT count(*)::int AS n FROM callback_events WHERE job_id = $1',
        [job.jobId],
      );
      expect(events.rows[0].n).toBe(1);
    });
  });
});
