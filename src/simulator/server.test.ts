import { Signature } from 'smile-identity-core';
import { get_job_status } from 'smile-identity-core/dist/src/utilities.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildSimulator, type Simulator } from './server.js';

/**
 * The simulator's wire format, checked against Smile ID's official Node SDK rather than against the
 * service's own signature code, so the two cannot share a mistake.
 */
const PARTNER_ID = '085';
const API_KEY = 'simulator-test-key';
const oracle = new Signature(PARTNER_ID, API_KEY);

let clock = Date.parse('2025-03-01T09:00:00.000Z');
let sim: Simulator;
beforeEach(() => {
  sim = buildSimulator({ partnerId: PARTNER_ID, apiKey: API_KEY, now: () => new Date(clock) });
});
afterEach(() => sim.app.close());

function register(body: Record<string, unknown>) {
  return sim.app.inject({ method: 'POST', url: '/__sim/jobs', payload: body });
}

/** A job_status request exactly as Smile ID documents it, signed by the official SDK. */
function jobStatus(overrides: Record<string, unknown> = {}) {
  return sim.app.inject({
    method: 'POST',
    url: '/v1/job_status',
    payload: {
      partner_id: PARTNER_ID,
      user_id: 'user-1',
      job_id: 'job-1',
      image_links: false,
      history: false,
      ...oracle.generate_signature(new Date(clock).toISOString()),
      source_sdk: 'rest_api',
      source_sdk_version: '1.0.0',
      ...overrides,
    },
  });
}

describe('POST /v1/job_status', () => {
  it('answers a known job with its life, signed so that the official SDK confirms the signature', async () => {
    await register({ jobId: 'job-1', userId: 'user-1', life: 'approved' });
    const response = await jobStatus();
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({ job_complete: true, job_success: true, code: '2302' });
    expect(body.result).toMatchObject({ ResultCode: '1210', PartnerParams: { job_id: 'job-1' } });
    expect(body.timestamp).toBe(new Date(clock).toISOString());
    expect(oracle.confirm_signature(body.timestamp, body.signature)).toBe(true);
  });

  it('signs each response with a fresh timestamp', async () => {
    await register({ jobId: 'job-1', userId: 'user-1', life: 'approved' });
    const first = (await jobStatus()).json();
    clock += 1234;
    const second = (await jobStatus()).json();
    expect(second.timestamp).not.toBe(first.timestamp);
    expect(second.signature).not.toBe(first.signature);
    expect(oracle.confirm_signature(second.timestamp, second.signature)).toBe(true);
  });

  it('plays the review life on its clock: provisional first, final approval after the review', async () => {
    await register({
      jobId: 'job-1',
      userId: 'user-1',
      life: 'review',
      startDelayMs: 1000,
      reviewDelayMs: 5000,
    });
    expect((await jobStatus()).json()).toMatchObject({ job_complete: false, result: 'No zip uploaded yet' });
    clock += 1000;
    expect((await jobStatus()).json()).toMatchObject({ job_complete: false, result: { ResultCode: '0814' } });
    clock += 5000;
    expect((await jobStatus()).json()).toMatchObject({ job_complete: true, result: { ResultCode: '1210' } });
  });

  it('includes history and image links only when asked for them', async () => {
    await register({ jobId: 'job-1', userId: 'user-1', life: 'approved' });
    const bare = (await jobStatus()).json();
    expect(bare).not.toHaveProperty('history');
    expect(bare).not.toHaveProperty('image_links');
    const full = (await jobStatus({ history: true, image_links: true })).json();
    expect(full.history.map((entry: { ResultType: string }) => entry.ResultType)).toEqual([
      'ID Verification',
      'SAIA',
    ]);
    expect(full.image_links.selfie_image).toMatch(/^https:\/\//);
  });

  it('answers an unknown job as one that has not started, still signed', async () => {
    const body = (await jobStatus({ job_id: 'job-unknown', history: true })).json();
    expect(body).toMatchObject({ job_complete: false, job_success: false, result: 'No zip uploaded yet' });
    expect(body.history).toEqual([]);
    expect(oracle.confirm_signature(body.timestamp, body.signature)).toBe(true);
  });

  it('treats a job asked for under another user_id as unknown', async () => {
    await register({ jobId: 'job-1', userId: 'user-1', life: 'approved' });
    const body = (await jobStatus({ user_id: 'user-2' })).json();
    expect(body).toMatchObject({ job_complete: false, result: 'No zip uploaded yet' });
  });

  it.each([
    ['signed with another key', () => new Signature(PARTNER_ID, 'other-key').generate_signature()],
    ['without a signature', () => ({ signature: undefined })],
    ['with a signature that is not base64', () => ({ signature: 'not a signature' })],
  ])('refuses a request %s with 401 and code 2205', async (_, signature) => {
    await register({ jobId: 'job-1', userId: 'user-1', life: 'approved' });
    const response = await jobStatus(signature());
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ code: '2205', error: expect.any(String) });
  });

  it('refuses a partner_id other than its own with 401 2205, even when signed for it', async () => {
    const response = await jobStatus({
      partner_id: '86',
      ...new Signature('86', API_KEY).generate_signature(),
    });
    expect(response.statusCode).toBe(401);
    expect(response.json().code).toBe('2205');
  });

  it('answers a missing parameter with 400 and code 2213, naming it', async () => {
    const response = await jobStatus({ user_id: undefined });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ code: '2213', error: 'Missing parameter: user_id' });
  });

  it('answers a flag of the wrong type with 400 and code 2204', async () => {
    const response = await jobStatus({ history: 'yes please' });
    expect(response.statusCode).toBe(400);
    expect(response.json().code).toBe('2204');
  });

  it('answers a body that is not JSON with 400 and code 2203', async () => {
    const response = await sim.app.inject({
      method: 'POST',
      url: '/v1/job_status',
      headers: { 'content-type': 'application/json' },
      payload: '{"partner_id":',
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().code).toBe('2203');
  });
});

describe('the official SDK against the listening simulator', () => {
  async function sdkGet(jobId: string) {
    const address = await sim.app.listen({ port: 0, host: '127.0.0.1' });
    return get_job_status(PARTNER_ID, API_KEY, `${address}/v1`, 'user-1', jobId, { return_history: true });
  }

  it('reads a job through get_job_status, which verifies the response signature itself', async () => {
    await register({ jobId: 'job-1', userId: 'user-1', life: 'suspects' });
    const body = await sdkGet('job-1');
    expect(body.job_complete).toBe(true);
    expect(body.history.map((entry: { ResultCode: string }) => entry.ResultCode)).toEqual([
      '1012',
      '1210',
      '5211',
    ]);
  });

  it('makes get_job_status refuse a response under the badSignature fault', async () => {
    await register({ jobId: 'job-1', userId: 'user-1', life: 'approved', faults: { badSignature: true } });
    await expect(sdkGet('job-1')).rejects.toThrow('Unable to confirm validity of the job_status response');
  });
});

describe('control routes', () => {
  it('refuses to register a life it does not know', async () => {
    const response = await register({ jobId: 'job-1', userId: 'user-1', life: 'immortal' });
    expect(response.statusCode).toBe(400);
    expect(sim.state.jobs.size).toBe(0);
  });

  it('describes a registered job and the callbacks its life will send', async () => {
    const response = await register({ jobId: 'job-1', userId: 'user-1', life: 'review', reviewDelayMs: 500 });
    expect(response.statusCode).toBe(201);
    expect(response.json()).toMatchObject({
      jobId: 'job-1',
      life: 'review',
      registeredAt: new Date(clock).toISOString(),
      callbacks: [{ atMs: 0 }, { atMs: 0 }, { atMs: 500, label: 'result: approved after review' }],
    });
  });

  it('forgets jobs, faults and stats on reset', async () => {
    await register({ jobId: 'job-1', userId: 'user-1', life: 'approved' });
    await sim.app.inject({ method: 'POST', url: '/__sim/faults', payload: { authError: true } });
    expect((await jobStatus()).statusCode).toBe(401);
    await sim.app.inject({ method: 'POST', url: '/__sim/reset' });
    const after = await jobStatus();
    expect(after.statusCode).toBe(200);
    expect(after.json().result).toBe('No zip uploaded yet');
    const stats = (await sim.app.inject({ method: 'GET', url: '/__sim/stats' })).json();
    expect(stats.totalCalls).toBe(1);
  });
});
