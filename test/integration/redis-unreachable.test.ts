import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { createDependencies } from '../../src/deps.js';
import { testConfig } from '../helpers/app.js';
import { capturingLogger } from '../helpers/logs.js';

/** Nothing listens on port 1: every connection to it is refused at once, as to a Redis that is down. */
const UNREACHABLE_REDIS_URL = 'redis://127.0.0.1:1';

describe('a worker whose Redis cannot be reached', () => {
  it('says so once, plainly, naming the address and the variable, however often it retries, and is not ready', {
    timeout: 30_000,
  }, async () => {
    const config = testConfig({ ROLE: 'all', REDIS_URL: UNREACHABLE_REDIS_URL });
    const { logger, logs } = capturingLogger('info');
    const deps = createDependencies(config, logger);
    const app = await buildApp({ config, logger, ...deps.forApp });
    deps.worker!.start();
    try {
      // Every connection, queue and worker retries many times meanwhile (some 100 lines before).
      await sleep(4000);
      const lines = logs()
        .split('\n')
        .filter((line) => line.includes('edis'));
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0]!)).toMatchObject({
        level: 50,
        address: '127.0.0.1:1',
        variable: 'REDIS_URL',
        msg: expect.stringMatching(
          /^Redis at 127\.0\.0\.1:1 is unreachable \(connect ECONNREFUSED.*REDIS_URL/,
        ),
      });
      expect(logs()).not.toContain('"stack"');

      const readiness = await app.inject({ method: 'GET', url: '/readyz' });
      expect(readiness.statusCode).toBe(503);
      expect(readiness.json()).toMatchObject({ checks: { postgres: 'ok', redis: 'unavailable' } });
    } finally {
      await app.close();
      await deps.forceClose();
    }
  });
});
