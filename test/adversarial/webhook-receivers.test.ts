import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDelivery } from '../../src/notify/deliver.js';
import type { WebhookStore } from '../../src/store/webhooks/webhook-store.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { type FullAnswer, newWebhookSecret, type Receiver, startReceiver } from '../helpers/receiver.js';
import { deliveryRows, endpointRow, jobDeliveries } from '../helpers/webhook-deliveries.js';

/** Generous bounds that catch the pathology (hundreds of MiB, seconds), never a speed. */
const MAX_RSS_GROWTH_BYTES = 128 * 1024 * 1024;
const MAX_BLOCK_MS = 1000;
const MiB = 1024 * 1024;
const BASE_RETRY_MS = 100;
const HOUR_MS = 3_600_000;

/** A body of `bytes` made as it is read, never held whole: `sent()` says how much was taken. */
function hugeBody(bytes: number) {
  let sent = 0;
  const chunk = Buffer.alloc(64 * 1024, 'x');
  return {
    sent: () => sent,
    stream: () =>
      new Readable({
        read() {
          if (sent >= bytes) {
            this.push(null);
            return;
          }
          sent += chunk.length;
          this.push(chunk);
        },
      }),
  };
}

/**
 * What a webhook receiver sends back is outside our control: a body of hundreds of MiB, bytes Postgres
 * refuses, a header of a MiB, a Retry-After. Each attempt is made by the delivery flow as the worker
 * runs it, with real HTTP to a real receiver, recorded in Postgres.
 */
describe('adversarial: what a webhook receiver answers', () => {
  const secret = newWebhookSecret();
  let t: TestApp;
  let receiver: Receiver | undefined;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterEach(async () => {
    await receiver?.close();
    receiver = undefined;
  });
  afterAll(async () => {
    await t?.close();
  });

  /** A receiver answering every message with `answer`, one job's delivery to it, and the flow that sends it. */
  async function deliveryAnswered(answer: FullAnswer, wrap?: (store: WebhookStore) => WebhookStore) {
    receiver = await startReceiver(secret);
    receiver.answer([], answer);
    const made = await jobDeliveries(t.db.pool, receiver.url);
    const flow = createDelivery({
      store: wrap ? wrap(made.store) : made.store,
      secrets: new Map([[receiver.url, secret]]),
      timeoutMs: 10_000,
      retryDelayMs: BASE_RETRY_MS,
      retryWindowMs: 24 * HOUR_MS,
      perEndpoint: 4,
      enqueue: async () => undefined,
      log: t.app.log,
    });
    const id = made.ids[0]!;
    return {
      ...made,
      id,
      run: () => flow.run(id),
      row: async () => (await deliveryRows(t.db.pool, made.jobId))[0]!,
    };
  }

  it('reads no more of a 500’s body of 256 MiB than the error text kept, on any attempt: memory and the event loop stay put', async () => {
    const body = hugeBody(256 * MiB);
    const { run, row } = await deliveryAnswered({ status: 500, body: body.stream });
    const histogram = monitorEventLoopDelay({ resolution: 10 });
    let peakRss = process.memoryUsage().rss;
    const baseline = peakRss;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 10);
    histogram.enable();
    try {
      for (let attempt = 0; attempt < 3; attempt += 1) expect(await run()).toBe('retry');
      await delay(30);
    } finally {
      histogram.disable();
      clearInterval(sampler);
    }
    const stored = await row();
    expect(stored).toMatchObject({ status: 'pending', attempts: 3, lastStatus: 500 });
    expect(stored.lastError).toMatch(/^HTTP 500: x+$/);
    expect(stored.lastError!.length).toBeLessThanOrEqual(210);
    // What the receiver could push before the connection was closed: socket buffers, not the body.
    expect(body.sent()).toBeLessThan(3 * 16 * MiB);
    expect(peakRss - baseline).toBeLessThan(MAX_RSS_GROWTH_BYTES);
    expect(histogram.max / 1e6).toBeLessThan(MAX_BLOCK_MS);
  });

  it('never reads a 2xx answer’s body', async () => {
    const body = hugeBody(256 * MiB);
    const { run, row } = await deliveryAnswered({ status: 200, body: body.stream });
    expect(await run()).toBe('delivered');
    expect(await row()).toMatchObject({ status: 'delivered', lastStatus: 200, lastError: null });
    expect(body.sent()).toBeLessThan(16 * MiB);
  });

  it('records an answer whose headers exceed 16 KiB as a failed attempt, without reading them', async () => {
    const { run, row } = await deliveryAnswered({ status: 500, headers: { 'x-padding': 'a'.repeat(MiB) } });
    expect(await run()).toBe('retry');
    expect(await row()).toMatchObject({
      attempts: 1,
      lastStatus: null,
      lastError: 'network error (UND_ERR_HEADERS_OVERFLOW)',
    });
  });

  it('stores an error text with a NUL byte, an unpaired surrogate and a pair cut at the limit cleaned, and moves the delivery on to its retries and the dead letters', async () => {
    // U+0000; ED A0 80 is U+D800 as WTF-8 would write it; the emoji straddles the 200th character.
    const text = Buffer.concat([
      Buffer.from('bad\u0000thing '),
      Buffer.from([0xed, 0xa0, 0x80]),
      Buffer.from(` ${'y'.repeat(185)}😀 tail`),
    ]);
    const { run, row, id } = await deliveryAnswered({ status: 500, body: text });
    expect(await run()).toBe('retry');
    expect(await run()).toBe('retry');
    const stored = await row();
    expect(stored.attempts).toBe(2);
    expect(stored.lastError).not.toContain('\u0000');
    expect((stored.lastError as string & { isWellFormed(): boolean }).isWellFormed()).toBe(true);
    expect(stored.lastError).toMatch(/^HTTP 500: bad thing \ufffd+ y+$/);

    await t.db.pool.query(
      "UPDATE webhook_deliveries SET created_at = now() - interval '25 hours' WHERE id = $1",
      [id],
    );
    expect(await run()).toBe('dead');
    expect(await row()).toMatchObject({ status: 'dead', attempts: 3 });
  });

  it('records a failure it could not record with the receiver’s text without it, so the delivery still moves on', async () => {
    let refused = 0;
    const { run, row } = await deliveryAnswered({ status: 500, body: 'fine text' }, (store) => ({
      ...store,
      // As Postgres refused a text it could not encode: once, for the receiver's text.
      markFailed: async (id, failure) => {
        if (failure.error.includes('fine text')) {
          refused += 1;
          throw new Error('invalid byte sequence for encoding "UTF8": 0x00');
        }
        await store.markFailed(id, failure);
      },
    }));
    expect(await run()).toBe('retry');
    expect(refused).toBe(1);
    expect(await row()).toMatchObject({
      status: 'pending',
      attempts: 1,
      lastError: 'HTTP 500 (error text not stored)',
      leasedUntil: null,
    });
  });

  it('waits as long as a 429’s Retry-After in seconds asks before the next attempt, to that message and to the endpoint', async () => {
    const { run, row, endpoint } = await deliveryAnswered({ status: 429, headers: { 'retry-after': '3' } });
    const before = Date.now();
    expect(await run()).toBe('retry');
    const stored = await row();
    expect(stored.nextAttemptAt.getTime() - before).toBeGreaterThanOrEqual(2900);
    expect(stored.nextAttemptAt.getTime() - before).toBeLessThan(3000 + 10_000);
    const state = await endpointRow(t.db.pool, endpoint.id);
    expect(state.failures).toBe(1);
    expect(state.backoffUntil!.getTime() - before).toBeGreaterThanOrEqual(2900);
  });

  it('waits until a 503’s Retry-After HTTP-date', async () => {
    const until = new Date(Math.ceil(Date.now() / 1000) * 1000 + 10_000);
    const { run, row } = await deliveryAnswered({
      status: 503,
      headers: { 'retry-after': until.toUTCString() },
    });
    expect(await run()).toBe('retry');
    expect((await row()).nextAttemptAt.getTime()).toBeGreaterThanOrEqual(until.getTime() - 5);
  });

  it('waits no longer than the retry cap of an hour, whatever Retry-After asks', async () => {
    const { run, row } = await deliveryAnswered({ status: 429, headers: { 'retry-after': '31536000' } });
    const before = Date.now();
    expect(await run()).toBe('retry');
    const wait = (await row()).nextAttemptAt.getTime() - before;
    expect(wait).toBeGreaterThanOrEqual(HOUR_MS - 1000);
    expect(wait).toBeLessThanOrEqual(HOUR_MS + 1000);
  });
});
