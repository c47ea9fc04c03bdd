import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from '../generated/prisma/client.js';

export interface DatabaseOptions {
  url: string;
  poolSize: number;
  /** Bound on waiting for a connection and on each statement, so a request never hangs on Postgres. */
  timeoutMs: number;
}

/**
 * One pg pool for the whole process: the callback hot path queries it directly, and Prisma runs on it
 * through its pg adapter, so both share connections and timeouts.
 */
export function createDatabase({ url, poolSize, timeoutMs }: DatabaseOptions) {
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
  pool.on('error', () => undefined);
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    pool,
    prisma,
    async close() {
      await prisma.$disconnect();
      await pool.end().catch(() => undefined);
    },
  };
}

export type Database = ReturnType<typeof createDatabase>;
