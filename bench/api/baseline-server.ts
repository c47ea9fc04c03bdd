import type { JobState } from '../../src/domain/facets.js';
import { TAG_BYTES } from '../../src/security/keyed-tags.js';
import { listJobsQuery, READ_JOB_SQL } from '../../src/store/jobs/job-queries.js';
import { createBaseline } from '../shared/baseline-lifecycle.js';

/**
 * The floor for the API bench: bare Fastify routes running the very SQL the service runs (imported from
 * it) with `pg`, and sending the rows as they come: no auth, rate limit, validation, presentation or
 * response schema. Same pool size and log level as the service.
 * Usage: PORT=… DATABASE_URL=… node --import tsx this file.
 */

const { app, pool, listen } = createBaseline();

app.get<{ Params: { jobId: string } }>('/v1/jobs/:jobId', async (request, reply) => {
  const { rows } = await pool.query(READ_JOB_SQL, [request.params.jobId]);
  return rows[0] ?? reply.code(404).send({ error: 'not found' });
});

app.get<{ Querystring: Record<string, string | undefined> }>('/v1/jobs', async (request) => {
  const { state, isFinal, limit = '50', cursor } = request.query;
  // The service's cursors: a tag, then the JSON; the floor does not check the tag.
  const afterSeq = cursor
    ? (JSON.parse(Buffer.from(cursor, 'base64url').subarray(TAG_BYTES).toString()) as { seq: string }).seq
    : undefined;
  const filters = {
    states: state ? (state.split(',') as JobState[]) : undefined,
    isFinal: isFinal === undefined ? undefined : isFinal === 'true',
  };
  const { rows } = await pool.query(listJobsQuery(filters, afterSeq, Number(limit) + 1));
  const items = rows.slice(0, Number(limit));
  const more = rows.length > items.length;
  return {
    items,
    nextCursor: more ? Buffer.from(JSON.stringify({ seq: items.at(-1).seq })).toString('base64url') : null,
  };
});

await listen();
