import Fastify, { type FastifyInstance } from 'fastify';
import { Signature } from 'smile-identity-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { simulatedJob } from './callbacks.js';
import { deliverOverTime, NOT_SENT } from './deliver-over-time.js';
import { lifeCallbacks } from './job-lives.js';
import { buildSimulator } from './server.js';

const PARTNER_ID = '085';
const API_KEY = 'simulator-test-key';
const oracle = new Signature(PARTNER_ID, API_KEY);
const credentials = { partnerId: PARTNER_ID, apiKey: API_KEY };

/** A stand-in for the service: records each body and when it arrived. */
let receiver: FastifyInstance;
let callbackUrl: string;
let received: { at: number; body: Record<string, unknown> }[] = [];
beforeAll(async () => {
  receiver = Fastify();
  receiver.post('/callbacks', async (request) => {
    received.push({ at: Date.now(), body: request.body as Record<string, unknown> });
    return { received: true };
  });
  callbackUrl = `${await receiver.listen({ port: 0, host: '127.0.0.1' })}/callbacks`;
});
afterAll(() => receiver.close());
beforeEach(() => {
  received = [];
});

const job = simulatedJob({ jobId: 'job-timed', userId: 'user-timed' });

describe('POST /__sim/jobs/:jobId/deliver with spreadMs', () => {
  it('sends a review’s final result only once the review is over, each callback within its delay', async () => {
    const { app } = buildSimulator(credentials);
    await app.inject({
      method: 'POST',
      url: '/__sim/jobs',
      payload: { jobId: job.jobId, userId: job.userId, life: 'review', reviewDelayMs: 400 },
    });
    const registeredAt = Date.now();
    const response = await app.inject({
      method: 'POST',
      url: `/__sim/jobs/${job.jobId}/deliver`,
      payload: { callbackUrl, spreadMs: 100, duplicate: 1 },
    });
    await app.close();

    expect(response.statusCode).toBe(200);
    expect(received).toHaveLength(4);
    const final = received.filter((entry) => entry.body.ResultCode === '1210');
    const early = received.filter((entry) => entry.body.ResultCode !== '1210');
    expect(final.length).toBeGreaterThan(0);
    for (const entry of final) expect(entry.at - registeredAt).toBeGreaterThanOrEqual(390);
    for (const entry of early) expect(entry.at - registeredAt).toBeLessThan(390);
  });

  it('reports the signature sent with each callback, a pair the official SDK accepts', async () => {
    const { app } = buildSimulator(credentials);
    await app.inject({
      method: 'POST',
      url: '/__sim/jobs',
      payload: { jobId: job.jobId, userId: job.userId, life: 'approved' },
    });
    const response = await app.inject({
      method: 'POST',
      url: `/__sim/jobs/${job.jobId}/deliver`,
      payload: { callbackUrl, spreadMs: 20 },
    });
    await app.close();

    const { deliveries } = response.json() as { deliveries: { timestamp: string; signature: string }[] };
    expect(deliveries).toHaveLength(2);
    for (const { timestamp, signature } of deliveries) {
      expect(oracle.confirm_signature(timestamp, signature)).toBe(true);
    }
    expect(received.map((entry) => entry.body.signature).sort()).toEqual(
      deliveries.map((delivery) => delivery.signature).sort(),
    );
  });

  it('refuses an order together with spreadMs, since the delays set the order', async () => {
    const { app } = buildSimulator(credentials);
    await app.inject({
      method: 'POST',
      url: '/__sim/jobs',
      payload: { jobId: job.jobId, userId: job.userId, life: 'approved' },
    });
    const response = await app.inject({
      method: 'POST',
      url: `/__sim/jobs/${job.jobId}/deliver`,
      payload: { callbackUrl, spreadMs: 20, order: 'reversed' },
    });
    await app.close();
    expect(response.statusCode).toBe(400);
    expect(received).toEqual([]);
  });
});

describe('deliverOverTime', () => {
  it('reports sendings still waiting when the signal aborts as not sent, and sends nothing more', async () => {
    const closing = new AbortController();
    const delivering = deliverOverTime(lifeCallbacks('review', job, { reviewDelayMs: 60_000 }), {
      ...credentials,
      callbackUrl,
      startedAt: Date.now(),
      spreadMs: 0,
      signal: closing.signal,
    });
    setTimeout(() => closing.abort(), 200);
    const report = await delivering;

    expect(
      report.deliveries.map((delivery) => [delivery.label, delivery.status ?? delivery.response]),
    ).toEqual([
      ['ID information', 200],
      ['result: provisional', 200],
      ['result: approved after review', NOT_SENT],
    ]);
    expect(received.map((entry) => entry.body.ResultCode)).toEqual(['1012', '0814']);
  });
});
