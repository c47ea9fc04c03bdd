import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { idInfoCallback, simulatedJob } from '../../src/simulator/callbacks.js';
import { TEST_API_KEY, TEST_PARTNER_ID } from '../helpers/app.js';
import { signed } from '../helpers/callbacks.js';
import { type ServiceProcess, spawnService, waitForOutput } from '../helpers/processes.js';

describe('SIGTERM to the API', () => {
  let service: ServiceProcess | undefined;
  afterAll(async () => {
    await service?.stop('SIGKILL');
  });

  it('finishes the callback in flight, refuses new connections, and exits cleanly in bounded time', async () => {
    service = spawnService({
      ROLE: 'all',
      DATABASE_URL: inject('databaseUrl'),
      REDIS_URL: inject('redisUrl'),
      REDIS_PREFIX: `test-${randomBytes(4).toString('hex')}`,
      SMILE_PARTNER_ID: TEST_PARTNER_ID,
      SMILE_API_KEYS: TEST_API_KEY,
      SHUTDOWN_TIMEOUT_MS: '10000',
      LOG_LEVEL: 'info',
    });
    await waitForOutput(service, 'service started');
    const port = Number(/Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(service.output())?.[1]);
    expect(port).toBeGreaterThan(0);

    // A 1.4 MB callback sent in two halves, with SIGTERM arriving in between.
    const body = Buffer.from(
      JSON.stringify(signed(idInfoCallback(simulatedJob(), { photoBytes: 1_400_000 }))),
    );
    const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const outgoing = request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/callbacks/smile-id',
          headers: { 'content-type': 'application/json', 'content-length': body.length },
        },
        (response) => {
          let text = '';
          response.on('data', (chunk) => {
            text += String(chunk);
          });
          response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
        },
      );
      outgoing.on('error', reject);
      outgoing.write(body.subarray(0, body.length / 2));
      setTimeout(() => outgoing.end(body.subarray(body.length / 2)), 500);
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    const exited = service.stop('SIGTERM');

    const { status, text } = await answer;
    expect(status).toBe(200);
    expect(JSON.parse(text).status).toBe('accepted');
    expect(await exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(service.output()).toContain('stopped');
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });
});
