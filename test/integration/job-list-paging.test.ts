import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOB_STATES } from '../../src/domain/facets.js';
import { resultCallback, simulatedJob } from '../../src/simulator/callbacks.js';
import { API_TOKEN, createTestApp, type TestApp } from '../helpers/app.js';
import { postCallback, signed } from '../helpers/callbacks.js';
import { createScratchDatabase } from '../helpers/database.js';
import { insertJobs, listAllJobs } from '../http/api-fixtures.js';

const INITIAL_JOBS = 600;
const PAGE = 37;

describe('GET /v1/jobs paging while jobs are created and updated', () => {
  let t: TestApp;
  let database: Awaited<ReturnType<typeof createScratchDatabase>>;
  let initial: string[];
  let created = 0;

  beforeAll(async () => {
    database = await createScratchDatabase();
    t = await createTestApp({ env: { DATABASE_URL: database.url } });
    initial = Array.from({ length: INITIAL_JOBS }, (_, index) => `initial-${index}`);
    await insertJobs(
      t.db.pool,
      initial.map((jobId, index) => ({
        jobId,
        userId: index % 2 === 0 ? 'even' : 'odd',
        state: JOB_STATES[index % JOB_STATES.length],
      })),
    );
  });
  afterAll(async () => {
    await t?.close();
    await database?.drop();
  });

  /** New jobs through both write paths: a real callback, and a registration-like insert. */
  async function createJobs(count: number): Promise<string[]> {
    const jobIds: string[] = [];
    for (let i = 0; i < count; i += 1) {
      created += 1;
      const jobId = `new-${created}`;
      if (i % 2 === 0) {
        expect((await postCallback(t.app, signed(resultCallback(simulatedJob({ jobId }))))).statusCode).toBe(
          200,
        );
      } else {
        await insertJobs(t.db.pool, [{ jobId, userId: created % 2 === 0 ? 'even' : 'odd' }]);
      }
      jobIds.push(jobId);
    }
    return jobIds;
  }

  /** Updates that rewrite rows (new tuple versions, new updated_at), as merges and checks do. */
  async function updateJobs(count: number): Promise<void> {
    await t.db.pool.query(
      `UPDATE jobs SET updated_at = now(), version = version + 1, result_text = md5(random()::text),
                       state = (ARRAY['pending','provisional','approved','rejected','failed'])[1 + floor(random() * 5)]::job_state
        WHERE job_id IN (SELECT job_id FROM jobs ORDER BY random() LIMIT $1)`,
      [count],
    );
  }

  /** Writes in a loop until stopped, racing the page requests. */
  function writeContinuously() {
    let running = true;
    const done = (async () => {
      const createdIds: string[] = [];
      while (running) {
        createdIds.push(...(await createJobs(1)));
        await updateJobs(3);
      }
      return createdIds;
    })();
    return {
      stop: async () => {
        running = false;
        return done;
      },
    };
  }

  it('neither skips nor repeats a job that existed at the start', async () => {
    const createdBetween: string[] = [];
    const writer = writeContinuously();
    const { ids, pages } = await listAllJobs(t.app, API_TOKEN, `limit=${PAGE}`, async () => {
      createdBetween.push(...(await createJobs(4)));
      await updateJobs(25);
    });
    const createdDuring = [...createdBetween, ...(await writer.stop())];

    expect(pages).toBeGreaterThan(INITIAL_JOBS / PAGE);
    expect(new Set(ids).size, 'a job was listed twice').toBe(ids.length);
    const listed = new Set(ids);
    expect(
      initial.filter((jobId) => !listed.has(jobId)),
      'jobs that existed were skipped',
    ).toEqual([]);
    const extra = ids.filter((jobId) => !initial.includes(jobId));
    expect(
      extra.every((jobId) => createdDuring.includes(jobId)),
      'an unknown job appeared',
    ).toBe(true);
    // New jobs come after every existing one: the first INITIAL_JOBS listed are the initial ones, in order.
    expect(ids.slice(0, INITIAL_JOBS)).toEqual(initial);
    expect(extra.length).toBeGreaterThan(0);
  });

  it('keeps a filtered listing whole when updates change other columns', async () => {
    const before = (await listAllJobs(t.app, API_TOKEN, 'userId=even&limit=200')).ids;
    const { ids } = await listAllJobs(t.app, API_TOKEN, 'userId=even&limit=11', async () => {
      await updateJobs(40);
      await createJobs(2);
    });
    expect(new Set(ids).size).toBe(ids.length);
    expect(before.filter((jobId) => !ids.includes(jobId))).toEqual([]);
  });
});
