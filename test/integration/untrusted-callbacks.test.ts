import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idInfoCallback, resultCallback, signCallback, simulatedJob } from '../../src/simulator/callbacks.js';
import { API_TOKEN, createTestApp, type TestApp } from '../helpers/app.js';
import { postCallback, signed } from '../helpers/callbacks.js';

/** The signature covers only the timestamp (docs/smile-id.md#signatures): these bodies verify, yet must not be believed. */
describe('correctly signed callbacks that cannot be trusted', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { CALLBACK_TIMESTAMP_TOLERANCE_SECONDS: '300' } });
  });
  afterAll(() => t.close());

  const jobRow = async (jobId: string) =>
    (await t.db.pool.query('SELECT * FROM jobs WHERE job_id = $1', [jobId])).rows[0];
  const events = async (jobId: string) =>
    (
      await t.db.pool.query(
        'SELECT trusted, untrusted_reason FROM callback_events WHERE job_id = $1 ORDER BY received_at',
        [jobId],
      )
    ).rows;

  it('stores a callback whose timestamp is outside the tolerance, without applying it', async () => {
    const job = simulatedJob();
    const stale = new Date(Date.now() - 3600_000).toISOString();
    const response = await postCallback(t.app, signed(resultCallback(job), stale));
    expect(response.statusCode).toBe(200);
    expect(response.json().status).toBe('accepted');
    expect(await events(job.jobId)).toEqual([
      { trusted: false, untrusted_reason: 'timestamp_outside_tolerance' },
    ]);
    expect(await jobRow(job.jobId)).toMatchObject({
      state: 'pending',
      is_final: false,
      needs_confirmation: true,
      untrusted_event_count: 1,
      user_id: job.userId,
    });
  });

  it('stores a timestamp it cannot parse as untrusted rather than refusing the callback', async () => {
    const job = simulatedJob();
    const response = await postCallback(t.app, signed(resultCallback(job), 'yesterday at noon'));
    expect(response.json().status).toBe('accepted');
    expect(await events(job.jobId)).toEqual([{ trusted: false, untrusted_reason: 'timestamp_unparseable' }]);
  });

  it('does not apply a different body replaying the signature of an earlier callback of the job', async () => {
    const job = simulatedJob();
    const genuine = signed(resultCallback(job, 'rejected'));
    await postCallback(t.app, genuine);
    const forged = {
      ...resultCallback(job, 'approved'),
      timestamp: genuine.timestamp,
      signature: genuine.signature,
    };
    const response = await postCallback(t.app, forged);
    expect(response.json().status).toBe('accepted');
    expect(await events(job.jobId)).toEqual([
      { trusted: true, untrusted_reason: null },
      { trusted: false, untrusted_reason: 'signature_replayed' },
    ]);
    expect(await jobRow(job.jobId)).toMatchObject({
      state: 'rejected',
      is_final: true,
      needs_confirmation: true,
    });
  });

  it('lets a registration replace a user id that only an untrusted body claimed', async () => {
    const job = simulatedJob();
    const stale = new Date(Date.now() - 3600_000).toISOString();
    const forged = { ...resultCallback(job), PartnerParams: { job_id: job.jobId, user_id: 'someone-else' } };
    await postCallback(t.app, signed(forged, stale));
    const registered = await t.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: { authorization: `Bearer ${API_TOKEN}` },
      payload: { jobId: job.jobId, userId: job.userId },
    });
    // A job that only a body knew is registered for the first time: 201.
    expect(registered.statusCode).toBe(201);
    expect(await jobRow(job.jobId)).toMatchObject({
      user_id: job.userId,
      identity_source: 'registration',
      needs_confirmation: true,
    });
  });

  it('trusts the result and ID callbacks of one job signed in the same millisecond', async () => {
    const job = simulatedJob();
    const timestamp = new Date().toISOString();
    await postCallback(t.app, signed(resultCallback(job), timestamp));
    await postCallback(t.app, signed(idInfoCallback(job), timestamp));
    expect(await events(job.jobId)).toEqual([
      { trusted: true, untrusted_reason: null },
      { trusted: true, untrusted_reason: null },
    ]);
  });

  it('keeps a signed body that names no job, flagged, instead of dropping it', async () => {
    const response = await postCallback(t.app, signed({ Something: 'new', ResultCode: '9999' }));
    expect(response.statusCode).toBe(200);
    const { rows } = await t.db.pool.query(
      'SELECT job_id, facets, trusted, untrusted_reason FROM callback_events WHERE id = $1',
      [response.json().eventId],
    );
    expect(rows[0]).toEqual({
      job_id: null,
      facets: ['unknown'],
      trusted: false,
      untrusted_reason: 'no_job_id',
    });
  });

  it('accepts a callback signed with the previous key during a rotation', async () => {
    const job = simulatedJob();
    const body = signCallback(resultCallback(job), { apiKey: 'previous-api-key', partnerId: '085' });
    expect((await postCallback(t.app, body)).statusCode).toBe(200);
    expect(await jobRow(job.jobId)).toMatchObject({ state: 'approved' });
  });

  it('refuses to rewrite a stored callback, even from SQL', async () => {
    const job = simulatedJob();
    const { eventId } = (await postCallback(t.app, signed(resultCallback(job)))).json();
    await expect(
      t.db.pool.query('UPDATE callback_events SET trusted = NOT trusted WHERE id = $1', [eventId]),
    ).rejects.toThrow(/immutable/);
  });
});
