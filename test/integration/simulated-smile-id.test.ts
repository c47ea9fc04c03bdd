import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { settingsOf } from '../../src/settings.js';
import {
  loadSimulator,
  SIMULATOR_SOURCE,
  type SimulatedSmileId,
  startSimulatedSmileId,
} from '../../src/simulated-smile-id.js';
import { simulatedJob } from '../../src/simulator/callbacks.js';
import { createJobStatusClient } from '../../src/smileid/job-status-client.js';
import { capturingLogger } from '../helpers/logs.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('Smile ID simulated in the process', () => {
  const { logger, logs } = capturingLogger('info');
  let simulated: SimulatedSmileId | undefined;
  afterAll(async () => {
    await simulated?.close();
  });

  it('loads the simulator from its source, which the production build leaves out', () => {
    expect(SIMULATOR_SOURCE).toBe(path.join(ROOT, 'src/simulator/server.ts'));
  });

  it('serves job_status on an ephemeral port of 127.0.0.1, signed with the configured partner and key', async () => {
    const config = loadConfig({});
    simulated = await startSimulatedSmileId(config, logger);
    const baseUrl = simulated.config.SMILE_API_BASE_URL;
    expect(baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    expect(baseUrl).not.toBe('http://127.0.0.1:3900/v1');
    expect(simulated.config).toEqual({ ...config, SMILE_API_BASE_URL: baseUrl });
    expect(Object.isFrozen(simulated.config)).toBe(true);

    const job = simulatedJob();
    const registered = await fetch(`${baseUrl.replace(/\/v1$/, '')}/__sim/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jobId: job.jobId, userId: job.userId, life: 'approved' }),
    });
    expect(registered.status).toBe(201);
    const answer = await createJobStatusClient(settingsOf(simulated.config).smileApi.status).fetchStatus(
      job.userId,
      job.jobId,
    );
    expect(answer.kind).toBe('status');
    expect(answer.kind === 'status' && answer.body.job_complete).toBe(true);
  });

  it('says so in a warning that names the address and how to reach Smile ID instead', () => {
    const warning = logs()
      .split('\n')
      .filter((line) => line.includes('Smile ID is simulated'))
      .map((line) => JSON.parse(line) as { level: number; msg: string });
    expect(warning).toHaveLength(1);
    expect(warning[0]!.level).toBe(40);
    expect(warning[0]!.msg).toBe(
      `Smile ID is simulated in this process at ${simulated!.config.SMILE_API_BASE_URL}; set ` +
        'SMILE_API_BASE_URL (to Smile ID, or to `npm run simulator`) or real SMILE_API_KEYS to reach Smile ID',
    );
  });

  it('stops listening when closed', async () => {
    const { SMILE_API_BASE_URL: baseUrl } = simulated!.config;
    await simulated!.close();
    simulated = undefined;
    await expect(fetch(`${baseUrl.replace(/\/v1$/, '')}/__sim/stats`)).rejects.toThrow();
  });
});

describe('Smile ID is never simulated', () => {
  const { logger } = capturingLogger('silent');
  const production = loadConfig({
    NODE_ENV: 'production',
    SMILE_PARTNER_ID: '4242',
    SMILE_API_KEYS: 'live-key-1',
    INTERNAL_API_TOKENS: 'live-token-1',
    INTERNAL_PII_TOKENS: 'live-pii-token-1',
    INTERNAL_ADMIN_TOKENS: 'live-admin-token-1',
    INTERNAL_REVIEW_TOKENS: 'live-review-token-1',
    DATA_ENCRYPTION_KEYS: `live-1:${Buffer.alloc(32, 7).toString('base64')}`,
    CALLBACK_ALLOWED_CIDRS: 'any',
    OBJECT_STORE_BUCKET: 'acme-smileid-photos',
  });

  it.each([
    ['in production', production],
    ['in production, even with the flag forced', Object.freeze({ ...production, SMILE_API_SIMULATED: true })],
    ['when a base URL is set', loadConfig({ SMILE_API_BASE_URL: 'http://127.0.0.1:3900/v1' })],
    ['with a real key', loadConfig({ SMILE_API_KEYS: 'live-key-1' })],
  ])('%s: the simulator is not even loaded', async (_case, config) => {
    const load = vi.fn(loadSimulator);
    await expect(startSimulatedSmileId(config, logger, load)).rejects.toThrow(/only in development/);
    expect(load).not.toHaveBeenCalled();
  });
});

describe('a simulator that cannot be loaded', () => {
  it('fails with what the operator can do instead', async () => {
    const missing = path.join(ROOT, 'no-such-folder/server.ts');
    const failure = loadSimulator(missing);
    await expect(failure).rejects.toThrow(`could not be loaded from ${missing}`);
    await expect(failure).rejects.toThrow('npm ci');
    await expect(failure).rejects.toThrow('set SMILE_API_BASE_URL');
  });

  it('fails the same way when the module has no buildSimulator', async () => {
    await expect(loadSimulator(path.join(ROOT, 'src/simulator/state.ts'))).rejects.toThrow(
      /exports no buildSimulator; set SMILE_API_BASE_URL/,
    );
  });
});
