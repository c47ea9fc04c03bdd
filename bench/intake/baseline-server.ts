import { createBaseline } from '../shared/baseline-lifecycle.js';
import { BASELINE_TABLE } from '../shared/database.js';
import { BODY_LIMIT_BYTES } from '../shared/settings.js';

/**
 * The floor to compare the service against: a bare Fastify route doing only the work no callback
 * receiver can skip — read the bytes, parse the JSON, store the raw body with one INSERT. Same body
 * limit, pool size and log level as the service. Usage: PORT=… DATABASE_URL=… node --import tsx this file.
 */

const { app, pool, listen } = createBaseline({ bodyLimit: BODY_LIMIT_BYTES });

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

await listen();
