import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulatedJob } from '../../src/simulator/callbacks.js';
import {
  API_TOKEN,
  createTestApp,
  PII_TOKEN,
  REVIEW_TOKEN,
  TEST_CURSORS,
  type TestApp,
} from '../helpers/app.js';
import { storeJob } from '../helpers/callbacks.js';
import { isErrorBody } from '../helpers/http.js';
import { bearer } from './api-fixtures.js';

const LIST_PARAMETERS = [
  'state',
  'userId',
  'isFinal',
  'updatedSince',
  'idNumberPreviouslyRegistered',
  'stale',
  'limit',
  'cursor',
];
const EVENT_PARAMETERS = ['include', 'limit', 'cursor'];
const REVIEW_PARAMETERS = ['limit', 'cursor'];

const likelyValue = fc.constantFrom(
  ...['approved', 'pending,failed', 'rejected,', 'true', 'false', 'TRUE', '0', '1', '50', '200', '201', '-1'],
  ...['1e3', '0x10', ' 5', '2026-11-26', '2026-11-26T10:00:00Z', '2026-11-26T10:00:00+25:00', '9999-12-31'],
  ...['0000-01-01T00:00:00Z', '2026-02-30T00:00:00Z', 'body', 'idInfo', '', 'null', '[]', '{}'],
);
const cursorValue = fc.oneof(
  fc.base64String({ maxLength: 80 }),
  fc.json({ maxDepth: 2 }).map((json) => Buffer.from(json).toString('base64url')),
  fc
    .bigInt({ min: -(2n ** 70n), max: 2n ** 70n })
    .map((seq) => TEST_CURSORS.encode('jobs', { seq: String(seq) })),
  fc.string({ maxLength: 30 }).map((seq) => TEST_CURSORS.encode('jobs', { seq })),
  fc
    .record({ at: fc.date({ noInvalidDate: true }).map((date) => date.toISOString()), id: fc.uuid() })
    .map((payload) => TEST_CURSORS.encode('events', payload)),
  fc.record({ at: fc.string(), id: fc.string() }).map((payload) => TEST_CURSORS.encode('events', payload)),
  fc
    .record({
      at: fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
      seq: fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
    })
    .map((payload) => TEST_CURSORS.encode('reviews', payload)),
);
/** Characters that have broken parsers and databases: NUL, controls, separators, lone surrogates. */
const awkwardText = fc.string({
  unit: fc.constantFrom(
    '\0',
    '\n',
    '\u001f',
    ',',
    ' ',
    '%',
    '&',
    '=',
    'é',
    '\u{1F600}',
    '\uD800',
    '\\',
    "'",
    'a',
    '1',
  ),
  maxLength: 20,
});
const anyValue = fc.oneof(
  { weight: 3, arbitrary: likelyValue },
  { weight: 2, arbitrary: cursorValue },
  { weight: 2, arbitrary: awkwardText },
  { weight: 1, arbitrary: fc.tuple(likelyValue, awkwardText).map(([value, text]) => value + text) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.integer().map(String) },
);
/** Pieces put into the query string as they are, not encoded: broken escapes, separators. */
const rawPiece = fc.constantFrom(
  '%',
  '%ZZ',
  '%E0%A4%A',
  '%00',
  '%FF%FE',
  '%C0%80',
  '+',
  '&&',
  '==',
  'a[b]=c',
  ';',
);

/** encodeURIComponent, with lone surrogates replaced (it refuses them) as a URL-encoding client would. */
const encode = (text: string) => encodeURIComponent(text.replace(/\p{Surrogate}/gu, '\uFFFD'));

function queryString(known: readonly string[]) {
  const key = fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...known) },
    { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'toString', 'include', 'state[]') },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  );
  const pair = fc.oneof(
    {
      weight: 8,
      arbitrary: fc.tuple(key, anyValue).map(([name, value]) => `${encode(name)}=${encode(value)}`),
    },
    { weight: 1, arbitrary: key.map(encode) },
    { weight: 1, arbitrary: rawPiece },
  );
  return fc.array(pair, { maxLength: 6 }).map((pairs) => pairs.join('&'));
}

describe('generated query strings', () => {
  let t: TestApp;
  const job = simulatedJob();
  beforeAll(async () => {
    t = await createTestApp();
    await storeJob(t.app, job);
  });
  afterAll(() => t?.close());

  async function expectNoServerError(url: string, token: string) {
    const response = await t.app.inject({ method: 'GET', url, headers: bearer(token) });
    expect(response.statusCode, `${url} → ${response.body}`).toBeLessThan(500);
    if (response.statusCode >= 400) expect(isErrorBody(response.body), response.body).toBe(true);
    else expect(Array.isArray(response.json().items)).toBe(true);
  }

  const token = fc.constantFrom(API_TOKEN, PII_TOKEN);

  it('never make GET /v1/jobs answer 5xx, and every refusal is a coded error', async () => {
    await fc.assert(
      fc.asyncProperty(queryString(LIST_PARAMETERS), token, (query, bearerToken) =>
        expectNoServerError(`/v1/jobs?${query}`, bearerToken),
      ),
      { numRuns: 400 },
    );
  });

  it('never make GET /v1/reviews answer 5xx, and every refusal is a coded error', async () => {
    await fc.assert(
      fc.asyncProperty(
        queryString(REVIEW_PARAMETERS),
        fc.constantFrom(API_TOKEN, REVIEW_TOKEN),
        (query, bearerToken) => expectNoServerError(`/v1/reviews?${query}`, bearerToken),
      ),
      { numRuns: 300 },
    );
  });

  it('never make GET /v1/users/:userId answer 5xx, for known and generated user ids', async () => {
    const userId = fc.oneof(
      { weight: 2, arbitrary: fc.constant(job.userId) },
      { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 60 }) },
      { weight: 1, arbitrary: awkwardText.filter((text) => text.length > 0) },
    );
    await fc.assert(
      fc.asyncProperty(userId, token, async (id, bearerToken) => {
        const url = `/v1/users/${encode(id)}`;
        const response = await t.app.inject({ method: 'GET', url, headers: bearer(bearerToken) });
        expect(response.statusCode, `${url} → ${response.body}`).toBeLessThan(500);
        if (response.statusCode >= 400) expect(isErrorBody(response.body), response.body).toBe(true);
        else expect(response.json().jobs.length).toBeGreaterThan(0);
      }),
      { numRuns: 300 },
    );
  });

  it('never make GET /v1/jobs/:jobId/events answer 5xx, for known and generated job ids', async () => {
    const jobId = fc.oneof(
      { weight: 3, arbitrary: fc.constant(job.jobId) },
      { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 60 }) },
      { weight: 1, arbitrary: awkwardText.filter((text) => text.length > 0) },
    );
    await fc.assert(
      fc.asyncProperty(queryString(EVENT_PARAMETERS), jobId, token, (query, id, bearerToken) =>
        expectNoServerError(`/v1/jobs/${encode(id)}/events?${query}`, bearerToken),
      ),
      { numRuns: 400 },
    );
  });
});
