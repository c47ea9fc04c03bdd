import { describe, expect, it } from 'vitest';
import { SMILE_PRODUCTION_SOURCES } from '../../src/callbacks/source-allowlist.js';
import { resultCallback, simulatedJob } from '../../src/simulator/callbacks.js';
import { createTestApp } from '../helpers/app.js';
import { signed } from '../helpers/callbacks.js';

const send = (
  app: Awaited<ReturnType<typeof createTestApp>>['app'],
  remoteAddress: string,
  headers: Record<string, string> = {},
) =>
  app.inject({
    method: 'POST',
    url: '/callbacks/smile-id',
    remoteAddress,
    headers: { 'content-type': 'application/json', ...headers },
    payload: JSON.stringify(signed(resultCallback(simulatedJob()))),
  });

describe('the callback source allow-list', () => {
  it('refuses an address outside the list with 403 before storing anything', async () => {
    const t = await createTestApp({ env: { CALLBACK_ALLOWED_CIDRS: SMILE_PRODUCTION_SOURCES.join(',') } });
    try {
      const refused = await send(t.app, '203.0.113.9');
      expect(refused.statusCode).toBe(403);
      expect(refused.json().error.code).toBe('SOURCE_NOT_ALLOWED');
      expect((await send(t.app, '52.36.32.43')).statusCode).toBe(200);
    } finally {
      await t.close();
    }
  });

  it('judges the client address from X-Forwarded-For only behind a configured proxy', async () => {
    const t = await createTestApp({
      env: { CALLBACK_ALLOWED_CIDRS: '52.36.32.43,10.20.0.0/16', TRUST_PROXY: '127.0.0.1/32' },
    });
    try {
      expect((await send(t.app, '127.0.0.1', { 'x-forwarded-for': '52.36.32.43' })).statusCode).toBe(200);
      expect((await send(t.app, '127.0.0.1', { 'x-forwarded-for': '198.51.100.4' })).statusCode).toBe(403);
      expect((await send(t.app, '10.20.3.4')).statusCode).toBe(200);
      // A client that is not the trusted proxy cannot choose its address by sending the header.
      expect((await send(t.app, '198.51.100.4', { 'x-forwarded-for': '52.36.32.43' })).statusCode).toBe(403);
    } finally {
      await t.close();
    }
  });
});
