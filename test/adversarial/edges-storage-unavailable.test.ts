import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { isStorageUnavailable } from '../../src/http/storage-unavailable.js';
import { resultCallback, simulatedJob } from '../../src/simulator/callbacks.js';
import { inTransaction } from '../../src/store/transactions.js';
import { API_TOKEN } from '../helpers/app.js';
import { signed } from '../helpers/callbacks.js';
import { testDatabase } from '../helpers/database.js';
import { isErrorBody } from '../helpers/http.js';
import {
  eventually,
  startService,
  startSimulator,
  type TestService,
  type TestSimulator,
} from '../helpers/service.js';

/**
 * A TCP relay between the service and Postgres that the test can cut (every connection dropped, new
 * ones refused) and restore, as a network partition or a Postgres restart would.
 */
async function postgresRelay(target: URL) {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const open = async () => {
    server = createServer((client) => {
      const upstream = connect(Number(target.port || 5432), target.hostname);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    if (address && typeof address === 'object') port = address.port;
  };
  await open();
  return {
    url: () => {
      const url = new URL(target);
      url.host = `127.0.0.1:${port}`;
      return url.toString();
    },
    async cut() {
      const closed = new Promise((resolve) => server?.close(resolve));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
    restore: open,
  };
}

describe('edges: /v1 while Postgres is unavailable', () => {
  let simulator: TestSimulator;
  let service: TestService;
  let relay: Awaited<ReturnType<typeof postgresRelay>>;
  const jobId = `outage-${randomUUID()}`;

  beforeAll(async () => {
    relay = await postgresRelay(new URL(inject('databaseUrl')));
    simulator = await startSimulator();
    service = await startService(simulator.url, { DATABASE_URL: relay.url(), DATABASE_TIMEOUT_MS: '1000' });
    // With a 1 s statement timeout, a busy machine's first write may answer 503: the same request again
    // registers the job (200 if the first one did after all).
    const registered = await eventually(async () => {
      const answer = await service.api('POST', '/v1/jobs', { jobId, userId: 'u' });
      return answer.status === 503 ? undefined : answer;
    });
    expect([200, 201]).toContain(registered?.status);
  });
  afterAll(async () => {
    await relay.restore().catch(() => undefined);
    await service.close();
    await simulator.close();
  });

  async function call(method: string, path: string, body?: unknown) {
    const started = Date.now();
    const response = await fetch(`${service.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${API_TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return {
      status: response.status,
      retryAfter: response.headers.get('retry-after'),
      text: await response.text(),
      ms: Date.now() - started,
    };
  }

  function expectUnavailable(answer: Awaited<ReturnType<typeof call>>) {
    expect(answer.status, answer.text).toBe(503);
    expect(Number(answer.retryAfter)).toBeGreaterThan(0);
    expect(isErrorBody(answer.text)).toBe(true);
    expect(JSON.parse(answer.text).error.code).toBe('STORAGE_UNAVAILABLE');
    // Bounded by DATABASE_TIMEOUT_MS (1 s here), not left hanging.
    expect(answer.ms).toBeLessThan(5000);
  }

  it('answers every /v1 route with 503 STORAGE_UNAVAILABLE and Retry-After while Postgres is cut off, and recovers', async () => {
    await relay.cut();
    try {
      expectUnavailable(await call('GET', `/v1/jobs/${jobId}`));
      expectUnavailable(await call('GET', '/v1/jobs?limit=5'));
      expectUnavailable(await call('GET', `/v1/jobs/${jobId}/events`));
      expectUnavailable(await call('POST', `/v1/jobs/${jobId}/reconcile`));
      // Registration goes through Prisma, whose errors wrap the driver's.
      expectUnavailable(await call('POST', '/v1/jobs', { jobId: `outage-${randomUUID()}`, userId: 'u' }));
      // The callback route keeps its own promise of the same answer.
      const callback = await fetch(`${service.baseUrl}/callbacks/smile-id`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(signed(resultCallback(simulatedJob()))),
      });
      expect(callback.status).toBe(503);
      expect(callback.headers.get('retry-after')).not.toBeNull();
    } finally {
      await relay.restore();
    }
    const back = await call('GET', `/v1/jobs/${jobId}`);
    expect(back.status, back.text).toBe(200);
    expect(service.logs()).not.toContain('INTERNAL_ERROR');
  });

  it('answers a /v1 read that Postgres cannot serve in time (a held lock) with 503 within the timeout', async () => {
    const blocker = new pg.Client({ connectionString: inject('databaseUrl') });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE');
      expectUnavailable(await call('GET', `/v1/jobs/${jobId}`));
      expectUnavailable(await call('POST', '/v1/jobs', { jobId: `locked-${randomUUID()}`, userId: 'u' }));
    } finally {
      await blocker.query('ROLLBACK');
      await blocker.end();
    }
    expect((await call('GET', `/v1/jobs/${jobId}`)).status).toBe(200);
  });
});

describe('edges: which database errors mean "unavailable"', () => {
  const db = testDatabase(inject('databaseUrl'), { timeoutMs: 300 });
  const unreachable = testDatabase('postgresql://postgres@127.0.0.1:1/nowhere', {
    poolSize: 1,
    timeoutMs: 300,
  });
  afterAll(async () => {
    await db.close();
    await unreachable.close();
  });

  const failureOf = (work: () => Promise<unknown>) =>
    work().then(
      () => {
        throw new Error('expected the query to fail');
      },
      (error: unknown) => error,
    );

  it('counts a refused connection, a statement timeout and a terminated backend as unavailable, through pg and Prisma', async () => {
    const errors = [
      await failureOf(() => unreachable.pool.query('SELECT 1')),
      await failureOf(() => unreachable.prisma.job.findUnique({ where: { jobId: 'x' } })),
      await failureOf(() => db.pool.query('SELECT pg_sleep(2)')),
      await failureOf(() => db.prisma.$queryRawUnsafe('SELECT pg_sleep(2)')),
      await failureOf(() => db.pool.query('SELECT pg_terminate_backend(pg_backend_pid())')),
    ];
    expect(errors.map(isStorageUnavailable)).toEqual([true, true, true, true, true]);
  });

  it('fails a transaction whose connection drops between statements, without an uncaught error, and keeps the pool usable', async () => {
    const uncaught: unknown[] = [];
    const record = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', record);
    try {
      const error = await failureOf(() =>
        inTransaction(db.pool, async (client) => {
          const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
          await db.pool.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
          // Let the termination arrive while no statement is running on this connection.
          await new Promise((resolve) => setTimeout(resolve, 200));
          return client.query('SELECT 1');
        }),
      );
      expect(isStorageUnavailable(error)).toBe(true);
      expect((await db.pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      process.off('uncaughtException', record);
    }
    expect(uncaught).toEqual([]);
  });

  it('never counts a bug or bad input as unavailable, so it stays a 500 or 400', async () => {
    const errors = [
      await failureOf(() => db.pool.query('SELECT $1::int', [2_147_483_648])),
      await failureOf(() => db.prisma.$queryRawUnsafe('SELECT $1::int', 2_147_483_648)),
      await failureOf(() => db.pool.query('SELECT * FROM no_such_table')),
      await failureOf(() => db.prisma.$queryRawUnsafe('SELECT * FROM no_such_table')),
      await failureOf(() => db.pool.query('SELECT 1/0')),
      new TypeError("Cannot read properties of undefined (reading 'jobId')"),
      new Error('a registered job could not be read back'),
    ];
    expect(errors.map(isStorageUnavailable)).toEqual([false, false, false, false, false, false, false]);
  });
});
