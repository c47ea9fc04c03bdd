import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idInfoCallback, resultCallback, simulatedJob } from '../../src/simulator/callbacks.js';
import { API_TOKEN, createTestApp, PII_TOKEN, type TestApp } from '../helpers/app.js';
import { postCallback, signed } from '../helpers/callbacks.js';

describe('POST /callbacks/smile-id', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  const getJob = (jobId: string, token = API_TOKEN, query = '') =>
    t.app.inject({
      method: 'GET',
      url: `/v1/jobs/${jobId}${query}`,
      headers: { authorization: `Bearer ${token}` },
    });

  it('stores a signed result callback and serves the merged outcome', async () => {
    const job = simulatedJob();
    const response = await postCallback(t.app, signed(resultCallback(job)));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ status: 'accepted', eventId: expect.any(String) });

    const outcome = (await getJob(job.jobId)).json();
    expect(outcome).toMatchObject({
      jobId: job.jobId,
      userId: job.userId,
      jobType: 1,
      smileJobId: job.smileJobId,
      state: 'approved',
      isFinal: true,
      confirmed: false,
      resultCode: '1210',
    });
    expect(outcome).not.toHaveProperty('idInfo');
  });

  it('merges the ID callback into idInfo, readable only with a PII token', async () => {
    const job = simulatedJob();
    await postCallback(t.app, signed(idInfoCallback(job, { previousRegistrants: ['user-a'] })));
    await postCallback(t.app, signed(resultCallback(job)));

    expect((await getJob(job.jobId, API_TOKEN, '?include=idInfo')).statusCode).toBe(403);
    const outcome = (await getJob(job.jobId, PII_TOKEN, '?include=idInfo')).json();
    expect(outcome.state).toBe('approved');
    expect(outcome.idInfo).toMatchObject({ fullName: job.fullName, idNumber: job.idNumber, dob: job.dob });
    expect(outcome.idNumberPreviouslyRegistered).toBe(true);
    expect(outcome.previousRegistrantUserIds).toEqual(['user-a']);
  });

  it('answers the same body again with duplicate and changes nothing', async () => {
    const job = simulatedJob();
    const body = JSON.stringify(signed(resultCallback(job)));
    const first = (await postCallback(t.app, body)).json();
    const second = await postCallback(t.app, body);
    expect(second.statusCode).toBe(200);
    expect(second.json()).toEqual({ status: 'duplicate', eventId: first.eventId });
    const { rows } = await t.db.pool.query('SELECT event_count FROM jobs WHERE job_id = $1', [job.jobId]);
    expect(rows[0].event_count).toBe(1);
  });
});
