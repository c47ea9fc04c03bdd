import { EventEmitter } from 'node:events';
import { PrismaPg } from '@prisma/adapter-pg';
import type { FastifyBaseLogger } from 'fastify';
import pg from 'pg';
import { PrismaClient } from '../generated/prisma/client.js';
import {
  createOutageReporter,
  type Dependency,
  type OutageReporter,
  type WatchedConnection,
} from '../util/outages.js';

/** Where DATABASE_URL points, as a log may say it: host, port and database, never a user or password. */
export function postgresAddress(url: string): string {
  try {
    const parsed = new URL(url);
    const database = parsed.pathname.replace(/^\//, '');
    return `${parsed.hostname || 'localhost'}:${parsed.port || '5432'}${database ? `/${database}` : ''}`;
  } catch {
    return 'the address in DATABASE_URL';
  }
}

/** Postgres as an operator knows it, for the line that says it cannot be reached. */
export function postgresDependency(url: string): Dependency {
  return {
    name: 'Postgres',
    address: postgresAddress(url),
    variable: 'DATABASE_URL',
    remedy: 'start it (docker compose up -d postgres) or point DATABASE_URL at it',
  };
}

/**
 * One reporter of Postgres outages for the whole process: the pool and the change feed's listener
 * report to it, so that an outage is said once, and its end once.
 */
export function postgresOutages(url: string, log: FastifyBaseLogger): OutageReporter {
  return createOutageReporter({ log, dependency: postgresDependency(url) });
}

/**
 * The pool as the outage reporter sees a connection: an idle client that loses its connection makes it
 * unready, and the next client that connects makes it ready again.
 */
function watchPool(pool: pg.Pool, outages: OutageReporter): void {
  const connection = Object.assign(new EventEmitter(), { status: 'ready' });
  pool.on('error', (error) => {
    connection.status = 'broken';
    connection.emit('error', error);
  });
  pool.on('connect', () => {
    if (connection.status === 'ready') return;
    connection.status = 'ready';
    connection.emit('ready');
  });
  outages.watch(connection as EventEmitter & WatchedConnection, 'postgres pool error');
}

export interface DatabaseOptions {
  url: string;
  poolSize: number;
  /** Bound on waiting for a connection and on each statement, so a request never hangs on Postgres. */
  timeoutMs: number;
  /**
   * Where an idle client's lost connection is reported: the process's one reporter of Postgres outages
   * (`postgresOutages`), a command-line tool's as much as the service's.
   */
  outages: OutageReporter;
}

/**
 * One pg pool for the whole process: the callback hot path queries it directly, and Prisma runs on it
 * through its pg adapter, so both share connections and timeouts.
 */
export function createDatabase({ url, poolSize, timeoutMs, outages }: DatabaseOptions) {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: timeoutMs,
    statement_timeout: timeoutMs,
    query_timeout: timeoutMs + 1000,
    idleTimeoutMillis: 30_000,
    application_name: 'smileid-callbacks',
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  watchPool(pool, outages);
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    pool,
    prisma,
    async close() {
      await prisma.$disconnect();
      // pg refuses only to end a pool twice (close called again): nothing is left open either way.
      await pool.end().catch(() => undefined);
    },
  };
}

export type Database = ReturnType<typeof createDatabase>;
