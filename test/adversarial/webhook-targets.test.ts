import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { TEST_API_KEY, TEST_PARTNER_ID } from '../helpers/app.js';
import { freePort, type ServiceProcess, spawnService, waitForOutput } from '../helpers/processes.js';
import { newWebhookSecret } from '../helpers/receiver.js';

/** The API alone, on `port`, with `urls` as its webhook endpoints. */
function serviceWith(port: number, urls: string[]): ServiceProcess {
  return spawnService({
    ROLE: 'api',
    PORT: String(port),
    DATABASE_URL: inject('databaseUrl'),
    REDIS_URL: inject('redisUrl'),
    REDIS_PREFIX: `test-${randomBytes(4).toString('hex')}`,
    SMILE_PARTNER_ID: TEST_PARTNER_ID,
    SMILE_API_KEYS: TEST_API_KEY,
    SMILE_API_BASE_URL: 'http://127.0.0.1:9/v1',
    NOTIFY_WEBHOOK_URLS: urls.join(','),
    NOTIFY_WEBHOOK_SECRETS: urls.map(() => newWebhookSecret()).join(','),
  });
}

/**
 * Webhook URLs at the service's own `/v1` and at 127.0.0.1:5432 (its Postgres) used to be taken as
 * they came: the service would have posted its notifications, with retries, to itself and to Postgres.
 * Now the process refuses to start with them, naming each; one at another loopback port starts, with a
 * warning.
 */
describe('adversarial: webhook URLs pointing inside', () => {
  let service: ServiceProcess | undefined;
  afterEach(async () => {
    await service?.stop('SIGKILL');
    service = undefined;
  });

  it('refuses to start with a webhook URL at its own listener or its Postgres, naming both, and never listens', async () => {
    const port = await freePort();
    const database = new URL(inject('databaseUrl'));
    const postgres = `http://${database.hostname}:${database.port || 5432}`;
    service = serviceWith(port, [`http://127.0.0.1:${port}/v1/jobs`, `${postgres}/`]);
    const [code] = (
      service.child.exitCode !== null ? [service.child.exitCode] : await once(service.child, 'exit')
    ) as [number | null];
    expect(code).toBe(1);
    expect(service.output()).toContain(
      `NOTIFY_WEBHOOK_URLS: http://127.0.0.1:${port} is this service's own listener (HOST, PORT ${port})`,
    );
    expect(service.output()).toContain(`NOTIFY_WEBHOOK_URLS: ${postgres} is the Postgres of DATABASE_URL`);
    expect(service.output()).not.toContain('Server listening');
  });

  it('starts with a webhook URL at another loopback port, and says so in a warning', async () => {
    const [port, receiverPort] = [await freePort(), await freePort()];
    service = serviceWith(port, [`http://127.0.0.1:${receiverPort}/hooks`]);
    await waitForOutput(service, 'service started');
    const warning = service
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: number; msg: string })
      .find((entry) =>
        entry.msg.startsWith(`NOTIFY_WEBHOOK_URLS: http://127.0.0.1:${receiverPort} is a loopback`),
      );
    expect(warning?.level).toBe(40);
  });
});
