import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookStore } from '../../src/store/webhooks/webhook-store.js';
import { ADMIN_TOKEN, API_TOKEN, createTestApp, PII_TOKEN, type TestApp } from '../helpers/app.js';
import { expectErrorBody } from '../helpers/http.js';
import { deliveryRows, jobDeliveries } from '../helpers/webhook-deliveries.js';

/**
 * Webhook administration is an operator's: an ordinary API token (or a PII token) used to enable an
 * endpoint an operator had disabled, list the internal URLs and the receivers' error texts, and resend
 * messages. Now each of those routes answers 403 to any token but one from INTERNAL_ADMIN_TOKENS.
 */
describe('adversarial: webhook administration with an ordinary token', () => {
  let t: TestApp;
  let endpointId: number;
  let deadLetterId: string;

  beforeAll(async () => {
    t = await createTestApp();
    // A disabled endpoint with a dead letter: what an ordinary token used to enable and resend.
    const made = await jobDeliveries(t.db.pool, `http://127.0.0.1:9/${randomUUID()}`);
    const store = createWebhookStore({ pool: t.db.pool });
    await store.disableEndpoint(made.endpoint.id, '410 Gone', new Date());
    const at = new Date();
    await store.markFailed(made.ids[0]!, {
      at,
      error: 'HTTP 500: internal detail',
      status: 500,
      nextAttemptAt: at,
      dead: true,
      endpoint: { failing: false },
    });
    endpointId = made.endpoint.id;
    deadLetterId = made.ids[0]!;
  });
  afterAll(() => t?.close());

  const call = (method: 'GET' | 'POST' | 'DELETE', url: string, token: string) =>
    t.app.inject({ method, url, headers: { authorization: `Bearer ${token}` } });

  const routes = () =>
    [
      ['GET', '/v1/notifications/endpoints'],
      ['POST', `/v1/notifications/endpoints/${endpointId}/enable`],
      ['DELETE', `/v1/notifications/endpoints/${endpointId}`],
      ['GET', '/v1/notifications/dead-letters'],
      ['POST', `/v1/notifications/dead-letters/${deadLetterId}/redeliver`],
    ] as const;

  it.each([
    ['an API token', API_TOKEN],
    ['a PII token', PII_TOKEN],
  ])(
    'answers 403 ADMIN_FORBIDDEN to %s on every webhook administration route, and changes nothing',
    async (_name, token) => {
      for (const [method, url] of routes()) {
        const response = await call(method, url, token);
        expectErrorBody(response, 403, 'ADMIN_FORBIDDEN');
        expect(response.body).not.toContain('127.0.0.1:9');
        expect(response.body).not.toContain('internal detail');
      }
      const { rows } = await t.db.pool.query('SELECT disabled_at FROM webhook_endpoints WHERE id = $1', [
        endpointId,
      ]);
      expect(rows[0].disabled_at).not.toBeNull();
      expect((await deliveryRows(t.db.pool, (await jobOf(deadLetterId))!))[0]).toMatchObject({
        status: 'dead',
      });
    },
  );

  it('answers 403 before it validates anything, so parameters tell an ordinary token nothing', async () => {
    expectErrorBody(
      await call('POST', '/v1/notifications/endpoints/not-an-id/enable', API_TOKEN),
      403,
      'ADMIN_FORBIDDEN',
    );
    expectErrorBody(
      await call('GET', '/v1/notifications/dead-letters?limit=-1', API_TOKEN),
      403,
      'ADMIN_FORBIDDEN',
    );
  });

  it('lets an admin token list, enable and redeliver, and read outcomes as an API token does, but not identity data', async () => {
    const listed = await call('GET', '/v1/notifications/endpoints', ADMIN_TOKEN);
    expect(listed.statusCode).toBe(200);
    expect(listed.json().items.map((item: { id: number }) => item.id)).toContain(endpointId);
    expect((await call('GET', '/v1/notifications/dead-letters?limit=200', ADMIN_TOKEN)).statusCode).toBe(200);
    expect(
      (await call('POST', `/v1/notifications/endpoints/${endpointId}/enable`, ADMIN_TOKEN)).statusCode,
    ).toBe(200);
    expect(
      (await call('POST', `/v1/notifications/dead-letters/${deadLetterId}/redeliver`, ADMIN_TOKEN))
        .statusCode,
    ).toBe(202);

    const jobId = (await jobOf(deadLetterId))!;
    expect((await call('GET', `/v1/jobs/${jobId}`, ADMIN_TOKEN)).statusCode).toBe(200);
    expectErrorBody(await call('GET', `/v1/jobs/${jobId}?include=idInfo`, ADMIN_TOKEN), 403, 'PII_FORBIDDEN');
  });

  async function jobOf(deliveryId: string): Promise<string | undefined> {
    const { rows } = await t.db.pool.query('SELECT job_id FROM webhook_deliveries WHERE id = $1', [
      deliveryId,
    ]);
    return rows[0]?.job_id;
  }
});
