import { Signature } from 'smile-identity-core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildSimulator, type Simulator } from './server.js';

const PARTNER_ID = '085';
const API_KEY = 'simulator-test-key';
const oracle = new Signature(PARTNER_ID, API_KEY);

let sim: Simulator;
let randomValue = 0.5;
beforeEach(async () => {
  sim = buildSimulator({ partnerId: PARTNER_ID, apiKey: API_KEY, random: () => randomValue });
  for (const jobId of ['job-a', 'job-b', 'job-c']) {
    await sim.app.inject({
      method: 'POST',
      url: '/__sim/jobs',
      payload: { jobId, userId: 'user-1', life: 'approved' },
    });
  }
});
afterEach(() => sim.app.close());

function jobStatus(jobId = 'job-a') {
  return sim.app.inject({
    method: 'POST',
    url: '/v1/job_status',
    payload: { partner_id: PARTNER_ID, user_id: 'user-1', job_id: jobId, ...oracle.generate_signature() },
  });
}
const setFaults = (faults: Record<string, unknown>, jobId?: string) =>
  sim.app.inject({
    method: 'POST',
    url: jobId ? `/__sim/jobs/${jobId}/faults` : '/__sim/faults',
    payload: faults,
  });
const stats = async () => (await sim.app.inject({ method: 'GET', url: '/__sim/stats' })).json();

describe('faults on demand', () => {
  it('adds latencyMs before answering', async () => {
    await setFaults({ latencyMs: 150 });
    const started = performance.now();
    const response = await jobStatus();
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect(response.statusCode).toBe(200);
  });

  it('fails the next n calls with 500, 502 and 503 and code 2201, then recovers', async () => {
    await setFaults({ failNext: 3 });
    const responses = [await jobStatus(), await jobStatus(), await jobStatus(), await jobStatus()];
    expect(responses.map((response) => response.statusCode)).toEqual([500, 502, 503, 200]);
    expect(responses[0]?.json()).toMatchObject({ code: '2201', error: expect.any(String) });
  });

  it('fails at failRate, as drawn from its random source', async () => {
    await setFaults({ failRate: 0.3 });
    randomValue = 0.29;
    expect((await jobStatus()).statusCode).toBeGreaterThanOrEqual(500);
    randomValue = 0.3;
    expect((await jobStatus()).statusCode).toBe(200);
  });

  it('applies a job’s own faults to that job only, before the global ones', async () => {
    await setFaults({ failNext: 1 }, 'job-b');
    expect((await jobStatus('job-a')).statusCode).toBe(200);
    expect((await jobStatus('job-b')).statusCode).toBe(500);
    expect((await jobStatus('job-b')).statusCode).toBe(200);
  });

  it('signs with another key under badSignature: well-formed, yet refused by the official SDK', async () => {
    await setFaults({ badSignature: true });
    const body = (await jobStatus()).json();
    expect(body.signature).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(oracle.confirm_signature(body.timestamp, body.signature)).toBe(false);
  });

  it('puts a plain string in result under resultAsString, even for a finished job', async () => {
    await setFaults({ resultAsString: true });
    expect((await jobStatus()).json()).toMatchObject({ job_complete: true, result: 'No zip uploaded yet' });
    await setFaults({ resultAsString: 'Job is being processed' });
    expect((await jobStatus()).json().result).toBe('Job is being processed');
  });

  it('refuses every call with 401 2205 under authError, even a correctly signed one', async () => {
    await setFaults({ authError: true }, 'job-a');
    const response = await jobStatus();
    expect(response.statusCode).toBe(401);
    expect(response.json().code).toBe('2205');
    expect((await jobStatus('job-b')).statusCode).toBe(200);
  });

  it('holds a call under timeoutNext until the client gives up, then answers the next one', async () => {
    await setFaults({ timeoutNext: 1 });
    const address = await sim.app.listen({ port: 0, host: '127.0.0.1' });
    const call = () =>
      fetch(`${address}/v1/job_status`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          partner_id: PARTNER_ID,
          user_id: 'user-1',
          job_id: 'job-a',
          ...oracle.generate_signature(),
        }),
        signal: AbortSignal.timeout(300),
      });
    await expect(call()).rejects.toThrow(/aborted/i);
    await expect.poll(async () => (await stats()).inFlight).toBe(0);
    expect((await call()).status).toBe(200);
  });

  it('releases held and delayed calls when it closes, so close() does not wait on them', async () => {
    await setFaults({ timeoutNext: 1 }, 'job-a');
    await setFaults({ latencyMs: 60_000 }, 'job-b');
    const held = [jobStatus('job-a'), jobStatus('job-b')];
    await expect.poll(async () => (await stats()).inFlight).toBe(2);
    const started = performance.now();
    await sim.app.close();
    expect(performance.now() - started).toBeLessThan(1000);
    for (const response of await Promise.all(held)) {
      expect(response.statusCode).toBe(503);
      expect(response.json().code).toBe('2201');
    }
  });
});

describe('GET /__sim/stats', () => {
  it('reports the most concurrent calls seen for one job and overall', async () => {
    await setFaults({ latencyMs: 100 });
    await Promise.all([
      ...Array.from({ length: 4 }, () => jobStatus('job-a')),
      jobStatus('job-b'),
      jobStatus('job-b'),
    ]);
    for (let i = 0; i < 3; i += 1) await jobStatus('job-c');
    expect(await stats()).toEqual({
      totalCalls: 9,
      callsPerJob: { 'job-a': 4, 'job-b': 2, 'job-c': 3 },
      inFlight: 0,
      maxConcurrentPerJob: { 'job-a': 4, 'job-b': 2, 'job-c': 1 },
      maxConcurrentForAnyJob: 4,
      maxConcurrentOverall: 6,
      maxConcurrentUploads: 0,
    });
  });
});
