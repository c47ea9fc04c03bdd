import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { SMILE_PRODUCTION_SOURCES } from '../../src/callbacks/source-allowlist.js';
import { resultCallback, simulatedJob } from '../../src/simulator/callbacks.js';
import { TEST_API_KEY, TEST_OBJECT_PREFIX, TEST_PARTNER_ID } from '../helpers/app.js';
import { signed } from '../helpers/callbacks.js';
import { isErrorBody } from '../helpers/http.js';
import { testObjectStoreEnv } from '../helpers/object-store-settings.js';
import { type ServiceProcess, spawnService, waitForOutput } from '../helpers/processes.js';

const OPEN_DOOR_WARNING = 'CALLBACK_ALLOWED_CIDRS=any: callbacks are accepted from every source address';

/** Everything production insists on, with real-looking values, except the callback sources. */
function productionEnv(sources: Record<string, string>): Record<string, string> {
  return {
    NODE_ENV: 'production',
    ROLE: 'api',
    DATABASE_URL: inject('databaseUrl'),
    REDIS_URL: inject('redisUrl'),
    REDIS_PREFIX: `test-${randomBytes(4).toString('hex')}`,
    SMILE_PARTNER_ID: TEST_PARTNER_ID,
    SMILE_API_KEYS: TEST_API_KEY,
    SMILE_API_BASE_URL: 'http://127.0.0.1:9/v1',
    INTERNAL_API_TOKENS: `live-${randomBytes(8).toString('hex')}`,
    INTERNAL_PII_TOKENS: `live-pii-${randomBytes(8).toString('hex')}`,
    INTERNAL_ADMIN_TOKENS: `live-admin-${randomBytes(8).toString('hex')}`,
    INTERNAL_REVIEW_TOKENS: `live-review-${randomBytes(8).toString('hex')}`,
    DATA_ENCRYPTION_KEYS: `live-1:${randomBytes(32).toString('base64')}`,
    ...testObjectStoreEnv(inject('objectStoreUrl'), TEST_OBJECT_PREFIX),
    ...sources,
  };
}

async function postCallback(port: number) {
  const response = await fetch(`http://127.0.0.1:${port}/callbacks/smile-id`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(signed(resultCallback(simulatedJob()))),
  });
  return { status: response.status, text: await response.text() };
}

async function listeningPort(service: ServiceProcess): Promise<number> {
  await waitForOutput(service, 'service started');
  const port = Number(/Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(service.output())?.[1]);
  expect(port).toBeGreaterThan(0);
  return port;
}

describe('edges: production refuses an open door', () => {
  let service: ServiceProcess | undefined;
  afterEach(async () => {
    await service?.stop('SIGKILL');
    service = undefined;
  });

  it('refuses to start in production without CALLBACK_ALLOWED_CIDRS, naming it, and never listens', async () => {
    service = spawnService(productionEnv({}));
    const exited =
      service.child.exitCode !== null ? [service.child.exitCode] : await once(service.child, 'exit');
    const [code] = exited as [number | null];
    expect(code).toBe(1);
    expect(service.output()).toContain('CALLBACK_ALLOWED_CIDRS must be set when NODE_ENV=production');
    expect(service.output()).toContain('`any`');
    expect(service.output()).not.toContain('Server listening');
  });

  it('starts in production with CALLBACK_ALLOWED_CIDRS=any, logs a warning, and takes callbacks from any address', async () => {
    service = spawnService(productionEnv({ CALLBACK_ALLOWED_CIDRS: 'any' }));
    const port = await listeningPort(service);
    const warning = service
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: number; msg: string })
      .find((entry) => entry.msg.startsWith(OPEN_DOOR_WARNING));
    expect(warning?.level).toBe(40);
    const answer = await postCallback(port);
    expect(answer.status, answer.text).toBe(200);
    expect(JSON.parse(answer.text).status).toBe('accepted');
  });

  it("in production with Smile ID's addresses only, refuses a callback from any other address with 403 and no warning", async () => {
    service = spawnService(productionEnv({ CALLBACK_ALLOWED_CIDRS: SMILE_PRODUCTION_SOURCES.join(',') }));
    const port = await listeningPort(service);
    const answer = await postCallback(port);
    expect(answer.status, answer.text).toBe(403);
    expect(isErrorBody(answer.text)).toBe(true);
    expect(JSON.parse(answer.text).error.code).toBe('SOURCE_NOT_ALLOWED');
    expect(service.output()).not.toContain(OPEN_DOOR_WARNING);
  });
});
