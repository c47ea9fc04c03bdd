import Fastify, { type FastifyInstance } from 'fastify';
import { Signature } from 'smile-identity-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { simulatedJob } from './callbacks.js';
import { deliverCallbacks } from './deliver.js';
import { lifeCallbacks } from './job-lives.js';
import { seededRandom as seeded } from './seeded-random.js';
import { buildSimulator } from './server.js';

const PARTNER_ID = '085';
const API_KEY = 'simulator-test-key';
const oracle = new Signature(PARTNER_ID, API_KEY);
const credentials = { partnerId: PARTNER_ID, apiKey: API_KEY };

/** A stand-in for the service: records raw bodies, and answers Smile Secure callbacks with 503. */
let receiver: FastifyInstance;
let callbackUrl: string;
let received: { raw: string; body: Record<string, unknown> }[] = [];
beforeAll(async () => {
  receiver = Fastify();
  receiver.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, raw, done) => {
    done(null, { raw, body: JSON.parse(String(raw)) });
  });
  receiver.post('/callbacks', async (request, reply) => {
    const entry = request.body as (typeof received)[number];
    received.push(entry);
    return entry.body.Antifraud ? reply.code(503).send({ busy: true }) : { received: true };
  });
  callbackUrl = `${await receiver.listen({ port: 0, host: '127.0.0.1' })}/callbacks`;
});
afterAll(() => receiver.close());
beforeEach(() => {
  received = [];
});

const job = simulatedJob({ jobId: 'job-delivery', userId: 'user-delivery' });
const codes = () => received.map((entry) => entry.body.ResultCode);

describe('callback delivery', () => {
  it('sends every callback of a life in natural order, each signed so the official SDK confirms it', async () => {
    const report = await deliverCallbacks(lifeCallbacks('review', job), { ...credentials, callbackUrl });
    expect(codes()).toEqual(['1012', '0814', '1210']);
    for (const { body } of received) {
      expect(oracle.confirm_signature(String(body.timestamp), String(body.signature))).toBe(true);
    }
    expect(report.deliveries.map((delivery) => delivery.status)).toEqual([200, 200, 200]);
    expect(report.dropped).toEqual([]);
  });

  it('signs each callback when it is sent, with its own fresh timestamp', async () => {
    let tick = Date.parse('2025-03-01T09:00:00.000Z');
    const now = () => {
      tick += 1000;
      return new Date(tick);
    };
    await deliverCallbacks(lifeCallbacks('review', job), { ...credentials, callbackUrl, now });
    expect(received.map((entry) => entry.body.timestamp)).toEqual([
      '2025-03-01T09:00:01.000Z',
      '2025-03-01T09:00:02.000Z',
      '2025-03-01T09:00:03.000Z',
    ]);
  });

  it('sends the life backwards in reversed order', async () => {
    await deliverCallbacks(lifeCallbacks('suspects', job), {
      ...credentials,
      callbackUrl,
      order: 'reversed',
    });
    expect(codes()).toEqual(['5211', '1210', '1012']);
  });

  it('records each delivery’s HTTP status, and null when nobody answers', async () => {
    const report = await deliverCallbacks(lifeCallbacks('suspects', job), { ...credentials, callbackUrl });
    expect(report.deliveries.map((delivery) => [delivery.label, delivery.status])).toEqual([
      ['ID information', 200],
      ['result: approved', 200],
      ['Smile Secure: suspects', 503],
    ]);
    const unreachable = await deliverCallbacks(lifeCallbacks('approved', job), {
      ...credentials,
      callbackUrl: 'http://127.0.0.1:1/callbacks',
    });
    expect(unreachable.deliveries.map((delivery) => delivery.status)).toEqual([null, null]);
  });
});

describe('POST /__sim/jobs/:jobId/deliver', () => {
  it('delivers shuffled, one callback twice with identical bytes and one never', async () => {
    const { app } = buildSimulator({ ...credentials, random: seeded(5) });
    await app.inject({
      method: 'POST',
      url: '/__sim/jobs',
      payload: { jobId: job.jobId, userId: job.userId, life: 'review' },
    });
    const response = await app.inject({
      method: 'POST',
      url: `/__sim/jobs/${job.jobId}/deliver`,
      payload: { callbackUrl, order: 'shuffled', duplicate: 1, drop: 1 },
    });
    await app.close();

    expect(response.statusCode).toBe(200);
    const report = response.json() as { deliveries: { label: string; repeat: boolean }[]; dropped: string[] };
    const sentCodes = report.deliveries.map((delivery) => CODE_OF[delivery.label]);
    expect(codes()).toEqual(sentCodes);
    expect(report.dropped).toHaveLength(1);
    expect(codes()).not.toContain(CODE_OF[report.dropped[0]!]);
    const twice = report.deliveries.find((delivery) => delivery.repeat)!;
    const copies = received.filter((entry) => entry.body.ResultCode === CODE_OF[twice.label]);
    expect(copies).toHaveLength(2);
    expect(copies[0]?.raw).toBe(copies[1]?.raw);
    // Natural order would put the copy right behind its original, in the life's order.
    const natural = [...sentCodes].sort((a, b) => NATURAL_CODES.indexOf(a!) - NATURAL_CODES.indexOf(b!));
    expect(sentCodes).not.toEqual(natural);
    for (const { body } of received) {
      expect(oracle.confirm_signature(String(body.timestamp), String(body.signature))).toBe(true);
    }
  });

  it('sends an ID photo of photoBytes when asked for a large one', async () => {
    const { app } = buildSimulator(credentials);
    await app.inject({
      method: 'POST',
      url: '/__sim/jobs',
      payload: { jobId: job.jobId, userId: job.userId, life: 'approved' },
    });
    await app.inject({
      method: 'POST',
      url: `/__sim/jobs/${job.jobId}/deliver`,
      payload: { callbackUrl, photoBytes: 600_000 },
    });
    await app.close();
    const idInfo = received.find((entry) => entry.body.ResultType === 'ID Verification');
    expect(String(idInfo?.body.Photo)).toHaveLength(600_000);
  });

  it('refuses to deliver for a job it does not know', async () => {
    const { app } = buildSimulator(credentials);
    const response = await app.inject({
      method: 'POST',
      url: '/__sim/jobs/nope/deliver',
      payload: { callbackUrl },
    });
    await app.close();
    expect(response.statusCode).toBe(404);
    expect(received).toEqual([]);
  });
});

const CODE_OF: Record<string, string> = {
  'ID information': '1012',
  'result: provisional': '0814',
  'result: approved after review': '1210',
};
const NATURAL_CODES = ['1012', '0814', '1210'];
