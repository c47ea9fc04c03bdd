import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openingMembers, signCallback } from '../../src/simulator/callbacks.js';
import { HOSTILE_SHAPES } from '../../src/simulator/hostile-shapes.js';
import { createJobStatusClient, MAX_JOB_STATUS_RESPONSE_BYTES } from '../../src/smileid/job-status-client.js';
import { TEST_API_KEY, TEST_PARTNER_ID } from '../helpers/app.js';
import { isErrorBody } from '../helpers/http.js';
import { startService, startSimulator, type TestService, type TestSimulator } from '../helpers/service.js';

/** Generous: the real figures (`npm run bench:event-loop`) are tens of milliseconds. */
const MAX_BLOCK_MS = 1000;
/** A block is recorded when the sampler's next timer fires: wait for it before reading the histogram. */
const SAMPLE_SETTLE_MS = 30;
const STALE_TIMESTAMP = '2023-02-14T00:07:49.924Z';

type Variant = 'signed fresh' | 'signed stale' | 'unsigned';
const VARIANTS: readonly Variant[] = ['signed fresh', 'signed stale', 'unsigned'];

/** The members every shape's body starts with: a job of its own and, unless unsigned, a signature. */
function leadFor(variant: Variant): string {
  if (variant === 'unsigned') return openingMembers();
  const timestamp = variant === 'signed stale' ? STALE_TIMESTAMP : undefined;
  return openingMembers({ apiKey: TEST_API_KEY, partnerId: TEST_PARTNER_ID, timestamp });
}

interface Measured {
  status: number;
  body: string;
  maxBlockMs: number;
  /** Status of every /healthz probe sent while the callback was in flight, and one after it; 0 if unanswered. */
  health: number[];
}

/** POSTs one body while sampling the event loop and probing /healthz, and reports both. */
async function sendMeasured(service: TestService, raw: Buffer): Promise<Measured> {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  const health: number[] = [];
  // A probe that times out counts as unanswered (0), not as an error thrown past the measurement.
  const probe = async () => {
    const response = await fetch(`${service.baseUrl}/healthz`, {
      signal: AbortSignal.timeout(MAX_BLOCK_MS),
    }).catch(() => undefined);
    health.push(response?.status ?? 0);
  };
  histogram.enable();
  let answered = false;
  const answer = fetch(`${service.baseUrl}/callbacks/smile-id`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: raw,
  })
    .then(async (response) => ({ status: response.status, body: await response.text() }))
    .finally(() => {
      answered = true;
    });
  const probing = (async () => {
    while (!answered) {
      await probe();
      await delay(20);
    }
  })();
  const { status, body } = await answer;
  await probing;
  await probe();
  await delay(SAMPLE_SETTLE_MS);
  histogram.disable();
  return { status, body, maxBlockMs: histogram.max / 1e6, health };
}

describe('no callback body up to CALLBACK_MAX_BYTES blocks the event loop', () => {
  let simulator: TestSimulator;
  let service: TestService;

  beforeAll(async () => {
    simulator = await startSimulator();
    // A limit that never binds: every body must reach the parser.
    service = await startService(simulator.url, { CALLBACK_RATE_LIMIT_PER_MINUTE: '1000000' });
  });
  afterAll(async () => {
    await service?.close();
    await simulator?.close();
  });

  it.each(HOSTILE_SHAPES.map((shape) => [shape.name, shape] as const))(
    'answers %s, signed fresh, signed stale or unsigned, with a code and without blocking',
    async (_name, shape) => {
      for (const variant of VARIANTS) {
        const raw = Buffer.from(shape.build(leadFor(variant), service.config.CALLBACK_MAX_BYTES));
        expect(raw.length).toBeLessThanOrEqual(service.config.CALLBACK_MAX_BYTES);
        const measured = await sendMeasured(service, raw);
        const context = `${variant}: ${measured.status} ${measured.body.slice(0, 200)}`;

        expect(measured.maxBlockMs, context).toBeLessThan(MAX_BLOCK_MS);
        expect(
          measured.health.every((status) => status === 200),
          context,
        ).toBe(true);
        expect([200, 400, 401], context).toContain(measured.status);
        if (measured.status !== 200) expect(isErrorBody(measured.body), context).toBe(true);
        if (!shape.withinLimits) {
          expect(measured.status, context).toBe(400);
          expect(['JSON_TOO_COMPLEX', 'JSON_TOO_DEEP']).toContain(JSON.parse(measured.body).error.code);
        }
        if (variant === 'unsigned') expect(measured.status, context).not.toBe(200);
      }
    },
  );

  it('stores a signed body whose lists exceed their caps, answering 200', async () => {
    const shape = HOSTILE_SHAPES.find((each) => each.name.startsWith('suspect users up to'))!;
    const raw = Buffer.from(shape.build(leadFor('signed fresh'), service.config.CALLBACK_MAX_BYTES));
    const measured = await sendMeasured(service, raw);
    expect(measured.status, measured.body).toBe(200);
    expect(JSON.parse(measured.body)).toMatchObject({ status: 'accepted' });
  });
});

describe('no job_status answer blocks the event loop', () => {
  const client = (answer: Buffer) =>
    createJobStatusClient({
      baseUrl: 'http://smile.invalid/v1',
      partnerId: TEST_PARTNER_ID,
      apiKeys: [TEST_API_KEY],
      timeoutMs: 1000,
      fetch: async () =>
        new Response(answer, { status: 200, headers: { 'content-type': 'application/json' } }),
    });

  it.each([
    [
      'a signed answer whose history holds a million empty objects',
      () => {
        const signed = JSON.stringify(
          signCallback({ job_complete: true }, { apiKey: TEST_API_KEY, partnerId: TEST_PARTNER_ID }),
        );
        return Buffer.from(`${signed.slice(0, -1)},"history":[${Array(1_000_000).fill('{}').join(',')}]}`);
      },
    ],
    [
      'an answer larger than MAX_JOB_STATUS_RESPONSE_BYTES',
      () => Buffer.alloc(MAX_JOB_STATUS_RESPONSE_BYTES + 1, 0x20),
    ],
  ])('refuses %s without parsing it', async (_name, build) => {
    const raw = build();
    const histogram = monitorEventLoopDelay({ resolution: 10 });
    histogram.enable();
    const answer = await client(raw).fetchStatus('user-1', 'job-1');
    await delay(SAMPLE_SETTLE_MS);
    histogram.disable();
    expect(answer).toMatchObject({ kind: 'failed', code: 'response_too_complex', retryable: false });
    expect(histogram.max / 1e6).toBeLessThan(MAX_BLOCK_MS);
  });
});
