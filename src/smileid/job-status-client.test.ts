import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSimulator, type Simulator } from '../simulator/server.js';
import { createJobStatusClient } from './job-status-client.js';

const PARTNER_ID = '085';
const API_KEY = 'client-test-key';

describe('the job_status client against the simulator', () => {
  let simulator: Simulator;
  let baseUrl: string;
  beforeAll(async () => {
    simulator = buildSimulator({ partnerId: PARTNER_ID, apiKey: API_KEY });
    baseUrl = `${await simulator.app.listen({ port: 0, host: '127.0.0.1' })}/v1`;
  });
  afterAll(() => simulator.app.close());

  const client = (overrides: Partial<Parameters<typeof createJobStatusClient>[0]> = {}) =>
    createJobStatusClient({
      baseUrl,
      partnerId: PARTNER_ID,
      apiKeys: [API_KEY],
      timeoutMs: 2000,
      ...overrides,
    });
  const register = async (jobId: string, faults: Record<string, unknown> = {}, life = 'approved') => {
    await simulator.app.inject({
      method: 'POST',
      url: '/__sim/jobs',
      payload: { jobId, userId: `user-${jobId}`, life, faults },
    });
  };

  it('sends the wire fields Smile ID expects and returns a verified status with history', async () => {
    await register('c-1');
    const answer = await client().fetchStatus('user-c-1', 'c-1');
    expect(answer.kind).toBe('status');
    if (answer.kind !== 'status') return;
    expect(answer.body).toMatchObject({ job_complete: true, job_success: true });
    expect(Array.isArray(answer.body.history)).toBe(true);
    expect(JSON.parse(answer.raw.toString())).toEqual(answer.body);
  });

  /** A fetch that remembers the JSON bodies it sent before sending them on. */
  const recordingFetch = () => {
    const sent: Record<string, unknown>[] = [];
    const recording: typeof fetch = (input, init) => {
      sent.push(JSON.parse(String(init?.body)) as Record<string, unknown>);
      return fetch(input, init);
    };
    return { sent, recording };
  };

  it('asks for history and no image links unless told otherwise', async () => {
    await register('c-8');
    const { sent, recording } = recordingFetch();
    const answer = await client({ fetch: recording }).fetchStatus('user-c-8', 'c-8');
    expect(sent[0]).toMatchObject({ image_links: false, history: true });
    expect(answer.kind === 'status' && 'image_links' in answer.body).toBe(false);
  });

  it('asks for image links without history when told, and returns the links in the verified status', async () => {
    await register('c-9');
    const { sent, recording } = recordingFetch();
    const answer = await client({ fetch: recording }).fetchStatus('user-c-9', 'c-9', {
      imageLinks: true,
      history: false,
    });
    expect(sent[0]).toMatchObject({ image_links: true, history: false });
    expect(answer.kind).toBe('status');
    if (answer.kind !== 'status') return;
    expect(answer.body.image_links).toEqual({ selfie_image: expect.stringMatching(/^https:\/\//) });
    expect(answer.body).not.toHaveProperty('history');
  });

  it('signs requests with the first key of the list, the newest one', async () => {
    await register('c-2');
    const answer = await client({ apiKeys: ['new-key-not-yet-at-smile', API_KEY] }).fetchStatus(
      'user-c-2',
      'c-2',
    );
    // The request was signed with the first key, which the simulator does not know.
    expect(answer).toEqual({ kind: 'unauthorized', code: '2205' });
  });

  it('returns a plain-string result as a status, for the merge to treat as "not started"', async () => {
    await register('c-3', {}, 'never_started');
    const answer = await client().fetchStatus('user-c-3', 'c-3');
    expect(answer.kind === 'status' && answer.body.result).toBe('No zip uploaded yet');
  });

  it('refuses a response whose signature does not verify', async () => {
    await register('c-4', { badSignature: true });
    expect(await client().fetchStatus('user-c-4', 'c-4')).toEqual({ kind: 'bad_signature' });
  });

  it('reports an authorisation error with its code and not as retryable', async () => {
    await register('c-5', { authError: true });
    expect(await client().fetchStatus('user-c-5', 'c-5')).toEqual({ kind: 'unauthorized', code: '2205' });
  });

  it('reports a 5xx with Smile ID’s error code as retryable', async () => {
    await register('c-6', { failNext: 1 });
    expect(await client().fetchStatus('user-c-6', 'c-6')).toMatchObject({
      kind: 'failed',
      code: '2201',
      retryable: true,
    });
  });

  it('gives up on a response that takes longer than the timeout', async () => {
    await register('c-7', { timeoutNext: 1 });
    const started = Date.now();
    expect(await client({ timeoutMs: 300 }).fetchStatus('user-c-7', 'c-7')).toMatchObject({
      kind: 'failed',
      code: 'timeout',
      retryable: true,
    });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('starts its timeout once the call has its place in the budget, not while it waits for one', async () => {
    await register('c-9');
    let sentAt = 0;
    const slot = async () => {
      // Longer than the timeout: a call that queued this long behind others must still be made.
      await new Promise((resolve) => setTimeout(resolve, 400));
      sentAt = Date.now();
    };
    const answer = await client({ timeoutMs: 300, slot }).fetchStatus('user-c-9', 'c-9');
    expect(answer.kind).toBe('status');
    expect(sentAt).toBeGreaterThan(0);
  });

  it('reports an unreachable Smile ID as a retryable network error', async () => {
    const answer = await client({ baseUrl: 'http://127.0.0.1:1/v1' }).fetchStatus('u', 'j');
    expect(answer).toMatchObject({ kind: 'failed', code: 'network_error', retryable: true });
  });
});
