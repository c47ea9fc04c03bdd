import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import type { presentJob } from '../../src/api/present-job.js';
import { buildApp } from '../../src/app.js';
import type { Config } from '../../src/config.js';
import { createDependencies, type Dependencies } from '../../src/deps.js';
import { buildSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/server.js';
import { ADMIN_TOKEN, API_TOKEN, TEST_API_KEY, TEST_PARTNER_ID, testConfig } from './app.js';
import { capturingLogger } from './logs.js';
import { freePort } from './processes.js';

export interface TestSimulator extends Simulator {
  url: string;
  /** Calls a `/__sim` control route. */
  control: (path: string, body?: unknown) => Promise<unknown>;
  close: () => Promise<void>;
}

/** The Smile ID simulator on a free local port. */
export async function startSimulator(
  options: Omit<SimulatorOptions, 'partnerId' | 'apiKey'> = {},
): Promise<TestSimulator> {
  const simulator = buildSimulator({ ...options, partnerId: TEST_PARTNER_ID, apiKey: TEST_API_KEY });
  const url = await simulator.app.listen({ port: 0, host: '127.0.0.1' });
  return {
    ...simulator,
    url,
    control: async (path, body) => {
      const response = await fetch(`${url}/__sim${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (!response.ok) throw new Error(`simulator ${path}: ${response.status} ${await response.text()}`);
      return response.json();
    },
    close: () => simulator.app.close(),
  };
}

/** What the API answers: a job, or an error body. */
export type ApiBody = Partial<ReturnType<typeof presentJob>> & { error?: { code: string; message: string } };

export interface TestService {
  app: FastifyInstance;
  deps: Dependencies;
  config: Config;
  baseUrl: string;
  logs: () => string;
  /** Calls the service's API with the ordinary token. */
  api: (method: string, path: string, body?: unknown) => Promise<{ status: number; body: ApiBody }>;
  /** Calls the service's API with an admin token, as an operator does on /v1/notifications/*. */
  admin: (method: string, path: string, body?: unknown) => Promise<{ status: number; body: ApiBody }>;
  /** POSTs a callback body to the service, over HTTP, as Smile ID would. */
  postCallback: (body: unknown, headers?: Record<string, string>) => Promise<Response>;
  close: () => Promise<void>;
}

/**
 * The whole service as main.ts composes it (API, sweeper and workers) on the test database, a queue
 * prefix of its own, and the given simulator as Smile ID.
 */
export async function startService(
  simulatorUrl: string,
  env: Record<string, string> = {},
): Promise<TestService> {
  // Known before listening, so that submissions name this service as their callback URL.
  const port = env.PORT ?? String(await freePort());
  const config = testConfig({
    PORT: port,
    PUBLIC_CALLBACK_URL: `http://127.0.0.1:${port}/callbacks/smile-id`,
    SMILE_API_BASE_URL: `${simulatorUrl}/v1`,
    REDIS_PREFIX: `test-${randomBytes(4).toString('hex')}`,
    RECONCILE_SWEEP_INTERVAL_MS: '200',
    RECONCILE_RETRY_DELAY_MS: '100',
    // The polling model compressed from minutes to seconds, as the convergence benchmark does.
    POLL_SILENT_FIRST_MS: '1000',
    POLL_REVIEW_FIRST_MS: '1000',
    POLL_MAX_INTERVAL_MS: '3000',
    SMILE_API_TIMEOUT_MS: '2000',
    ...env,
  });
  const { logger, logs } = capturingLogger(config.LOG_LEVEL);
  const deps = createDependencies(config, logger);
  const app = await buildApp({ config, logger, ...deps.forApp });
  const baseUrl = await app.listen({ port: config.PORT, host: '127.0.0.1' });
  deps.worker?.start();
  const call = (token: string) => async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as ApiBody };
  };
  return {
    app,
    deps,
    config,
    baseUrl,
    logs,
    api: call(API_TOKEN),
    admin: call(ADMIN_TOKEN),
    postCallback: (body, headers = {}) =>
      fetch(`${baseUrl}/callbacks/smile-id`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      }),
    async close() {
      await app.close();
      await deps.close();
      await deleteQueueKeys(config.REDIS_URL, config.REDIS_PREFIX);
    },
  };
}

async function deleteQueueKeys(url: string, prefix: string) {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
  } catch {
    // Redis already gone (a test stopped it): nothing to clean.
  } finally {
    redis.disconnect();
  }
}

/** Polls `probe` until it returns a truthy value or the time runs out. */
export async function eventually<T>(
  probe: () => Promise<T>,
  timeoutMs = 15_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * The simulator and the whole service for one describe block: started before its tests, closed after.
 * Read `sim` and `service` inside tests, once the hooks have run.
 */
export function simulatedService(env: Record<string, string> = {}) {
  const context = {} as { sim: TestSimulator; service: TestService };
  beforeAll(async () => {
    context.sim = await startSimulator();
    context.service = await startService(context.sim.url, env);
  });
  afterAll(async () => {
    await context.service?.close();
    await context.sim?.close();
  });
  return context;
}

/** The job as the API shows it, once `predicate` holds of it (or undefined when the time runs out). */
export function jobWhen(
  service: TestService,
  jobId: string,
  predicate: (job: ApiBody) => boolean | undefined,
  timeoutMs?: number,
): Promise<ApiBody | undefined> {
  return eventually(async () => {
    const { body } = await service.api('GET', `/v1/jobs/${jobId}`);
    return predicate(body) ? body : undefined;
  }, timeoutMs);
}
