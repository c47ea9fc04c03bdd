import Fastify from 'fastify';
import pg from 'pg';
import { pino } from 'pino';
import { DATABASE_POOL_SIZE } from './settings.js';

/**
 * What every baseline server shares: a pool and a Fastify app configured like the service (pool size,
 * log level), a readiness route, and a clean stop on SIGTERM or when its orchestrator goes away.
 * Usage of a baseline: PORT=… DATABASE_URL=… node --import tsx <file>.
 */
export function createBaseline({ bodyLimit }: { bodyLimit?: number } = {}) {
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: DATABASE_POOL_SIZE });
  const app = Fastify({ loggerInstance: pino({ level: 'warn' }), ...(bodyLimit ? { bodyLimit } : {}) });

  app.get('/readyz', async () => {
    await pool.query('SELECT 1');
    return { status: 'ready' };
  });

  async function listen() {
    const stop = async () => {
      await app.close();
      await pool.end();
    };
    process.once('SIGTERM', () => void stop());
    // Orphaned by a crashed orchestrator: go away rather than hold the port and connections.
    process.once('disconnect', () => void stop());
    await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
  }

  return { app, pool, listen };
}
