import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  idInfoCallback,
  resultCallback,
  simulatedJob,
  smileSecureCallback,
} from '../../src/simulator/callbacks.js';
import { createTestApp, PII_TOKEN, type TestApp } from '../helpers/app.js';
import { signed } from '../helpers/callbacks.js';

describe('callbacks of one job arriving at the same instant', () => {
  let t: TestApp;
  let baseUrl: string;
  beforeAll(async () => {
    t = await createTestApp();
    baseUrl = await t.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(() => t.close());

  const post = (body: Record<string, unknown>) =>
    fetch(`${baseUrl}/callbacks/smile-id`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('lands both the result and the ID callback of every job, over many concurrent pairs', async () => {
    const jobs = Array.from({ length: 40 }, () => simulatedJob());
    const responses = await Promise.all(
      jobs.flatMap((job) => [
        post(signed(resultCallback(job))),
        post(signed(idInfoCallback(job))),
        post(signed(smileSecureCallback(job, [{ user_id: 'suspect-1', reason: 'same face' }]))),
      ]),
    );
    expect(responses.map((response) => response.status)).toEqual(responses.map(() => 200));
    const bodies = (await Promise.all(responses.map((response) => response.json()))) as { status: string }[];
    expect(bodies.every((body) => body.status === 'accepted')).toBe(true);

    const { rows } = await t.db.pool.query(
      `SELECT job_id, state, is_final, event_count, id_info IS NOT NULL AS has_id, suspect_users
         FROM jobs WHERE job_id = ANY($1)`,
      [jobs.map((job) => job.jobId)],
    );
    expect(rows).toHaveLength(jobs.length);
    for (const row of rows) {
      expect(row).toMatchObject({ state: 'approved', is_final: true, event_count: 3, has_id: true });
      expect(row.suspect_users).toEqual([{ userId: 'suspect-1', reason: 'same face' }]);
    }
  });

  it('answers 200 to 60 distinct callbacks for one job posted at once, and merges every one', async () => {
    // Once 16 to 60 at once exhausted the compare-and-swap retries: 36 to 39 of 60 answered 503.
    const job = simulatedJob();
    const bodies = Array.from({ length: 60 }, (_, index) => {
      const body =
        index === 0
          ? resultCallback(job, 'approved')
          : index % 3 === 1
            ? idInfoCallback(job)
            : index % 3 === 2
              ? smileSecureCallback(job, [{ user_id: 'suspect-2', reason: 'same face' }])
              : resultCallback(job, 'provisional');
      // Each its own signature: the same body under another timestamp is another callback.
      return signed(body, new Date(Date.now() - index * 1000).toISOString());
    });
    const responses = await Promise.all(bodies.map(post));
    const answers = await Promise.all(
      responses.map(async (response) => ({
        status: response.status,
        body: (await response.json()) as { status: string },
      })),
    );
    expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 200));
    expect(answers.every((answer) => answer.body.status === 'accepted')).toBe(true);

    const events = await t.db.pool.query(
      'SELECT count(*)::int AS n, bool_and(trusted) AS trusted FROM callback_events WHERE job_id = $1',
      [job.jobId],
    );
    expect(events.rows[0]).toEqual({ n: 60, trusted: true });
    const { rows } = await t.db.pool.query(
      `SELECT state, is_final, event_count, id_info IS NOT NULL AS has_id, suspect_users
         FROM jobs WHERE job_id = $1`,
      [job.jobId],
    );
    expect(rows[0]).toMatchObject({ state: 'approved', is_final: true, event_count: 60, has_id: true });
    expect(rows[0].suspect_users).toEqual([{ userId: 'suspect-2', reason: 'same face' }]);
  });

  it('records exactly one creation transition per job however the writes raced', async () => {
    const job = simulatedJob();
    await Promise.all([post(signed(idInfoCallback(job))), post(signed(resultCallback(job, 'provisional')))]);
    await post(signed(resultCallback(job, 'approved')));
    const { rows } = await t.db.pool.query(
      'SELECT from_state, to_state, to_final FROM job_transitions WHERE job_id = $1 ORDER BY id',
      [job.jobId],
    );
    expect(rows.at(-1)).toMatchObject({ to_state: 'approved', to_final: true });
    expect(rows.filter((row) => row.from_state === null)).toHaveLength(1);

    const outcome = await fetch(`${baseUrl}/v1/jobs/${job.jobId}?include=idInfo`, {
      headers: { authorization: `Bearer ${PII_TOKEN}` },
    }).then((response) => response.json());
    expect(outcome).toMatchObject({ state: 'approved', isFinal: true, idInfo: { idNumber: job.idNumber } });
  });
});
