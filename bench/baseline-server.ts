import Fastify from 'fastify';
import pg from 'pg';
import { pino } from 'pino';
import { BASELINE_TABLE } from './database.js';
import { BODY_LIMIT_BYTES, DATABASE_POOL_SIZE } from './settings.js';

/**
 * The floor to compare the service against: a bare Fastify route doing only the work no callback
 * receiver can skip — read the bytes, parse the JSON, store the raw body with one INSERT. Same body
 * limit, pool size and log level as the service. Usage: PORT=… DATABASE_URL=… node --import tsx this file.
 */

const port = Number(process.env.PORT);
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: DATABASE_POOL_SIZE });
const app = Fastify({ loggerInstance: pino({ level: 'warn' }), bodyLimit: BODY_LIMIT_BYTES });

// Keep the exact bytes, as the service does, and parse them in the handler.
app.removeContentTypeParser('application/json');
app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) =>
  done(null, body),
);

app.post('/callbacks/smile-id', async (request, reply) => {
  const raw = request.body as Buffer;
  const parsed: unknown = JSON.parse(raw.toString('utf8'));
  if (parsed === null || typeof parsed !== 'object') return reply.code(400).send({ status: 'refused' });
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO ${BASELINE_TABLE} (body) VALUES ($1) RETURNING id`,
    [raw],
  );
  return { status: 'accepted', eventId: rows[0]!.id };
});

app.get('/readyz', async () => {
  await pool.query('SELECT 1');
  return { status: 'ready' };
});

async function stop() {
  await app.close();
  await pool.end();
}

process.once('SIGTERM', () => void stop());
// Orphaned by a crashed orchestrator: go away rather than hold the port and connections.
process.once('disconnect', () => void stop());

await app.listen({ port, host: '127.0.0.1' });
