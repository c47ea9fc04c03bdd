import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, inject, it } from 'vitest';
import { createDatabase, postgresOutages } from '../../src/store/connections.js';
import { createChangeSignal } from '../../src/store/feed/change-feed.js';
import { TEST_API_KEY, TEST_PARTNER_ID } from '../helpers/app.js';
import { capturingLogger } from '../helpers/logs.js';
import { freePort, spawnService } from '../helpers/processes.js';

/** Nothing listens on port 1: every connection to it is refused at once, as to a Postgres that is down. */
const UNREACHABLE_DATABASE_URL = 'postgresql://postgres:a-secret-password@127.0.0.1:1/callbacks';

describe('a service whose Postgres cannot be reached', () => {
  it('stops its start with which dependency, at which address, from which variable, and what to try, never the password', {
    timeout: 30_000,
  }, async () => {
    const service = spawnService({
      ROLE: 'all',
      DATABASE_URL: UNREACHABLE_DATABASE_URL,
      REDIS_URL: 'redis://127.0.0.1:1',
      SMILE_PARTNER_ID: TEST_PARTNER_ID,
      SMILE_API_KEYS: TEST_API_KEY,
    });
    const [code] = (await once(service.child, 'exit')) as [number | null];
    expect(code).toBe(1);
    const output = service.output();
    expect(output).toContain(
      'failed to start: Postgres at 127.0.0.1:1/callbacks is unreachable (connect ECONNREFUSED 127.0.0.1:1)',
    );
    expect(output).toContain('start it (docker compose up -d postgres) or point DATABASE_URL at it');
    expect(output).not.toContain('a-secret-password');
  });

  it("says the change feed listener's outage once however often it retries", {
    timeout: 30_000,
  }, async () => {
    const { logger, logs } = capturingLogger('info');
    const outages = postgresOutages(UNREACHABLE_DATABASE_URL, logger);
    const signal = createChangeSignal({ url: UNREACHABLE_DATABASE_URL, outages });
    try {
      await signal.start();
      // It retries every second meanwhile.
      await sleep(3500);
      const lines = logs().split('\n').filter(Boolean);
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0]!)).toMatchObject({
        level: 50,
        dependency: 'postgres',
        address: '127.0.0.1:1/callbacks',
        variable: 'DATABASE_URL',
        msg: expect.stringMatching(
          /^Postgres at 127\.0\.0\.1:1\/callbacks is unreachable \(connect ECONNREFUSED/,
        ),
      });
      expect(logs()).not.toContain('a-secret-password');
      expect(outages.down).toBe(true);
    } finally {
      await signal.close();
    }
  });

  it('says once that it is back when the change feed listener listens again', {
    timeout: 30_000,
  }, async () => {
    // Postgres behind a port of the test's own, so the test can take it away and bring it back.
    const port = await freePort();
    const target = new URL(inject('databaseUrl'));
    const url = new URL(inject('databaseUrl'));
    url.host = `127.0.0.1:${port}`;
    const { logger, logs } = capturingLogger('info');
    const outages = postgresOutages(url.toString(), logger);
    const signal = createChangeSignal({ url: url.toString(), outages });
    let proxy: Server | undefined;
    try {
      await signal.start();
      await sleep(2500);
      proxy = createServer((socket) => {
        const upstream = connect(Number(target.port || 5432), target.hostname);
        socket.pipe(upstream).pipe(socket);
        socket.on('error', () => upstream.destroy());
        upstream.on('error', () => socket.destroy());
      });
      proxy.listen(port, '127.0.0.1');
      await once(proxy, 'listening');
      const deadline = Date.now() + 10_000;
      while (!logs().includes('reachable again') && Date.now() < deadline) await sleep(100);
      const lines = logs()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { level: number; msg: string });
      expect(lines.map((line) => line.level)).toEqual([50, 30]);
      expect(lines[1]!.msg).toMatch(
        new RegExp(`^Postgres at 127\\.0\\.0\\.1:${port}/\\S+ is reachable again`),
      );
      expect(outages.down).toBe(false);
    } finally {
      await signal.close();
      proxy?.close();
    }
  });

  it("says once that the pool's idle connections were lost, and once that it connects again", {
    timeout: 30_000,
  }, async () => {
    const port = await freePort();
    const target = new URL(inject('databaseUrl'));
    const url = new URL(inject('databaseUrl'));
    url.host = `127.0.0.1:${port}`;
    const sockets = new Set<Socket>();
    const proxy = createServer((socket) => {
      const upstream = connect(Number(target.port || 5432), target.hostname);
      sockets.add(socket);
      socket.pipe(upstream).pipe(socket);
      socket.on('error', () => upstream.destroy());
      socket.on('close', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
      upstream.on('close', () => socket.destroy());
    });
    proxy.listen(port, '127.0.0.1');
    await once(proxy, 'listening');
    const { logger, logs } = capturingLogger('info');
    const outages = postgresOutages(url.toString(), logger);
    const db = createDatabase({ url: url.toString(), poolSize: 3, timeoutMs: 2000, outages });
    try {
      // Three clients left idle in the pool, then every connection cut at once.
      await Promise.all([1, 2, 3].map(() => db.pool.query('SELECT pg_sleep(0.05)')));
      for (const socket of sockets) socket.destroy();
      const deadline = Date.now() + 10_000;
      while (!outages.down && Date.now() < deadline) await sleep(50);
      expect(outages.down).toBe(true);
      await db.pool.query('SELECT 1');
      while (!logs().includes('reachable again') && Date.now() < deadline) await sleep(100);
      const lines = logs()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { level: number; msg: string; variable?: string });
      expect(lines.map((line) => line.level)).toEqual([50, 30]);
      expect(lines[0]).toMatchObject({ variable: 'DATABASE_URL' });
      expect(lines[0]!.msg).toMatch(
        /^Postgres at 127\.0\.0\.1:\d+\/\S+ is unreachable \(Connection terminated/,
      );
      expect(outages.down).toBe(false);
    } finally {
      await db.close();
      proxy.close();
    }
  });
});
