import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { createDependencies, type Dependencies } from '../../src/deps.js';
import { idInfoCallback, simulatedJob } from '../../src/simulator/callbacks.js';
import { TEST_API_KEY, TEST_PARTNER_ID, testConfig } from '../helpers/app.js';
import { signed } from '../helpers/callbacks.js';
import { isErrorBody } from '../helpers/http.js';
import { capturingLogger } from '../helpers/logs.js';
import { type ServiceProcess, spawnService, waitForOutput } from '../helpers/processes.js';

const SHUTDOWN_TIMEOUT_MS = 8000;

function serviceEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    ROLE: 'all',
    DATABASE_URL: inject('databaseUrl'),
    REDIS_URL: inject('redisUrl'),
    REDIS_PREFIX: `test-${randomBytes(4).toString('hex')}`,
    SMILE_PARTNER_ID: TEST_PARTNER_ID,
    SMILE_API_KEYS: TEST_API_KEY,
    // Nothing listens there: job_status checks fail at once instead of reaching the real sandbox.
    SMILE_API_BASE_URL: 'http://127.0.0.1:9/v1',
    SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
    LOG_LEVEL: 'info',
    ...overrides,
  };
}

async function started(service: ServiceProcess): Promise<number> {
  await waitForOutput(service, 'service started');
  const port = Number(/Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(service.output())?.[1]);
  expect(port).toBeGreaterThan(0);
  return port;
}

interface Answer {
  status: number;
  connection: string | undefined;
  text: string;
}

/** A keep-alive request through `agent`; resolves with the answer and the socket it used. */
function keepAliveRequest(
  agent: Agent,
  port: number,
  options: { method?: string; path: string; body?: Buffer; splitAfterMs?: number },
): { answer: Promise<Answer>; socket: Promise<Socket> } {
  let socketReady: (socket: Socket) => void = () => undefined;
  const socket = new Promise<Socket>((resolve) => {
    socketReady = resolve;
  });
  const answer = new Promise<Answer>((resolve, reject) => {
    const { body } = options;
    const outgoing = request(
      {
        agent,
        host: '127.0.0.1',
        port,
        method: options.method ?? 'GET',
        path: options.path,
        headers: body ? { 'content-type': 'application/json', 'content-length': body.length } : {},
      },
      (response) => {
        let text = '';
        response.on('data', (chunk) => {
          text += String(chunk);
        });
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, connection: response.headers.connection, text }),
        );
      },
    );
    outgoing.on('socket', (assigned) => socketReady(assigned as Socket));
    outgoing.on('error', reject);
    if (!body) {
      outgoing.end();
    } else {
      // Half the body now, the rest later: the request is in flight meanwhile.
      outgoing.write(body.subarray(0, body.length / 2));
      setTimeout(() => outgoing.end(body.subarray(body.length / 2)), options.splitAfterMs ?? 0);
    }
  });
  return { answer, socket };
}

const closedPromise = (socket: Socket) =>
  socket.destroyed
    ? Promise.resolve()
    : new Promise<void>((resolve) => socket.once('close', () => resolve()));

describe('shutdown: SIGTERM to the service', () => {
  let service: ServiceProcess | undefined;
  afterEach(async () => {
    await service?.stop('SIGKILL');
    service = undefined;
  });

  it('closes an idle keep-alive connection at once and exits 0, instead of waiting on it until the deadline', async () => {
    service = spawnService(serviceEnv());
    const port = await started(service);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const { answer, socket } = keepAliveRequest(agent, port, { path: '/healthz' });
    expect((await answer).status).toBe(200);
    const idle = await socket;
    expect(idle.destroyed).toBe(false);
    const socketClosed = closedPromise(idle);

    const signalledAt = Date.now();
    const code = await service.stop('SIGTERM');
    expect(code).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(SHUTDOWN_TIMEOUT_MS / 2);
    await socketClosed;
    expect(service.output()).toContain('"msg":"stopped"');
    expect(service.output()).not.toContain('shutdown timed out');
    agent.destroy();
  });

  it('finishes a keep-alive request in flight, closes its connection after the answer, closes Postgres and Redis and exits 0', async () => {
    service = spawnService(serviceEnv());
    const port = await started(service);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    // The connection is reused: it served a request before the one in flight.
    expect((await keepAliveRequest(agent, port, { path: '/healthz' }).answer).status).toBe(200);

    const body = Buffer.from(JSON.stringify(signed(idInfoCallback(simulatedJob(), { photoBytes: 400_000 }))));
    const inFlight = keepAliveRequest(agent, port, {
      method: 'POST',
      path: '/callbacks/smile-id',
      body,
      splitAfterMs: 700,
    });
    const socket = await inFlight.socket;
    const socketClosed = closedPromise(socket);
    await delay(200);
    const signalledAt = Date.now();
    const exited = service.stop('SIGTERM');

    const { status, connection, text } = await inFlight.answer;
    expect(status, text).toBe(200);
    expect(JSON.parse(text).status).toBe('accepted');
    expect(connection).toBe('close');
    await socketClosed;
    expect(await exited).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(SHUTDOWN_TIMEOUT_MS / 2);
    const output = service.output();
    expect(output).toContain('"msg":"stopped"');
    expect(output).not.toContain('shutdown timed out');
    agent.destroy();
  });

  it('when a request holds on past the deadline, still closes Postgres and Redis, then exits 1 within SHUTDOWN_TIMEOUT_MS', async () => {
    const timeoutMs = 2000;
    service = spawnService(serviceEnv({ SHUTDOWN_TIMEOUT_MS: String(timeoutMs) }));
    const port = await started(service);
    // A client that announces a body and never sends it holds its request open.
    const stalled = connect(port, '127.0.0.1');
    stalled.on('error', () => undefined);
    await new Promise<void>((resolve) => stalled.once('connect', () => resolve()));
    stalled.write(
      'POST /callbacks/smile-id HTTP/1.1\r\nHost: s\r\nContent-Type: application/json\r\n' +
        'Content-Length: 1000\r\n\r\n{"partial":',
    );
    const stalledClosed = closedPromise(stalled);
    await delay(200);

    const signalledAt = Date.now();
    expect(await service.stop('SIGTERM')).toBe(1);
    expect(Date.now() - signalledAt).toBeLessThan(timeoutMs + 1000);
    await stalledClosed;
    const lines = service
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { msg?: string; time: number });
    const messages = lines.map((line) => line.msg);
    // By their times: pino may write two lines of the same millisecond out of order.
    const timeOf = (msg: string) => lines.find((line) => line.msg === msg)?.time ?? Number.NaN;
    const timedOutAt = timeOf('shutdown timed out; closing connections and exiting');
    expect(timedOutAt, service.output()).not.toBeNaN();
    expect(timeOf('connections to Postgres and Redis closed'), service.output()).toBeGreaterThanOrEqual(
      timedOutAt,
    );
    expect(messages).not.toContain('stopped');
  });
});

describe('shutdown: long-held requests', () => {
  let app: FastifyInstance | undefined;
  let deps: Dependencies | undefined;
  afterEach(async () => {
    await app?.close();
    await deps?.close();
    app = undefined;
    deps = undefined;
  });

  /** The service in this process, with `addRoutes` registering test routes before it listens. */
  async function listening(addRoutes: (app: FastifyInstance) => void) {
    const config = testConfig();
    const { logger } = capturingLogger('warn');
    deps = createDependencies(config, logger);
    app = await buildApp({ config, logger, ...deps.forApp });
    addRoutes(app);
    return { app, baseUrl: await app.listen({ port: 0, host: '127.0.0.1' }) };
  }

  it('ends a request that waits on app.shuttingDown as soon as closing begins, so close does not wait for it', async () => {
    let arrived: () => void = () => undefined;
    const waiting = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const service = await listening((app) => {
      // The shape a long poll takes: wait for news or a time limit, and give up at once on shutdown.
      app.get('/long-poll', async () => {
        arrived();
        const ended = await delay(30_000, 'time limit', { signal: app.shuttingDown }).catch(() => 'shutdown');
        return { items: [], ended };
      });
    });
    expect(service.app.shuttingDown.aborted).toBe(false);
    const answer = fetch(`${service.baseUrl}/long-poll`).then(async (response) => ({
      status: response.status,
      connection: response.headers.get('connection'),
      body: await response.json(),
    }));
    await waiting;
    const closingAt = Date.now();
    await service.app.close();
    expect(Date.now() - closingAt).toBeLessThan(2000);
    expect(service.app.shuttingDown.aborted).toBe(true);
    const { status, connection, body } = await answer;
    expect(status).toBe(200);
    expect(body).toEqual({ items: [], ended: 'shutdown' });
    expect(connection).toBe('close');
  });

  it('answers a request arriving on an open connection while closing with 503 SHUTTING_DOWN in the error shape', async () => {
    const service = await listening((app) => {
      // A response already streaming when shutdown begins keeps its connection open a little longer.
      app.get('/stream', (_request, reply) => {
        const body = new PassThrough();
        void reply.header('content-type', 'text/plain').send(body);
        body.write('first part;');
        app.shuttingDown.addEventListener('abort', () => setTimeout(() => body.end('last part'), 300));
      });
    });
    const { port } = new URL(service.baseUrl);
    const socket = connect(Number(port), '127.0.0.1');
    socket.on('error', () => undefined);
    let received = '';
    socket.on('data', (chunk) => {
      received += String(chunk);
    });
    const socketClosed = closedPromise(socket);
    socket.write('GET /stream HTTP/1.1\r\nHost: s\r\n\r\n');
    while (!received.includes('first part;')) await delay(10);

    const closing = service.app.close();
    socket.write('GET /healthz HTTP/1.1\r\nHost: s\r\n\r\n');
    await socketClosed;
    await closing;

    const [first = '', second = ''] = received.split(/(?=HTTP\/1\.1 )/);
    expect(first).toMatch(/^HTTP\/1\.1 200 /);
    expect(first).toContain('last part');
    expect(second).toMatch(/^HTTP\/1\.1 503 /);
    expect(second.toLowerCase()).toContain('retry-after: 1');
    expect(second.toLowerCase()).toContain('connection: close');
    expect(isErrorBody(second.slice(second.indexOf('\r\n\r\n') + 4))).toBe(true);
    expect(second).toContain('"code":"SHUTTING_DOWN"');
  });
});
