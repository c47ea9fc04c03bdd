import { createHash, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idInfoCallback, resultCallback, simulatedJob } from '../../src/simulator/callbacks.js';
import { computeSignature } from '../../src/smileid/signature.js';
import { createTestApp, TEST_PARTNER_ID, type TestApp } from '../helpers/app.js';
import { postCallback, signed } from '../helpers/callbacks.js';
import { expectErrorBody, isErrorBody, streamPost } from '../helpers/http.js';

const SMALL_LIMIT = 65_536;

describe('POST /callbacks/smile-id with bad input', () => {
  let t: TestApp;
  let small: TestApp;
  /** Every body this file expects to be refused, so the end can prove none of them was stored. */
  const refusedJobIds: string[] = [];
  const refusedHashes: string[] = [];

  beforeAll(async () => {
    [t, small] = await Promise.all([
      createTestApp(),
      createTestApp({ env: { CALLBACK_MAX_BYTES: String(SMALL_LIMIT) } }),
    ]);
    await small.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await Promise.all([t?.close(), small?.close()]);
  });

  /** A fresh job whose id is remembered as one that must never reach the database. */
  const refusedJob = () => {
    const job = simulatedJob();
    refusedJobIds.push(job.jobId);
    return job;
  };

  /** Sends exact bytes, remembers them as refused, and checks the answer echoes none of them. */
  async function refuse(payload: string | Buffer, headers: Record<string, string> = {}, app = t.app) {
    const raw = Buffer.from(payload);
    refusedHashes.push(createHash('sha256').update(raw).digest('hex'));
    const response = await app.inject({ method: 'POST', url: '/callbacks/smile-id', headers, payload: raw });
    expect(response.statusCode).toBeLessThan(500);
    for (const id of refusedJobIds) expect(response.body).not.toContain(id);
    return response;
  }
  const asJson = { 'content-type': 'application/json' };
  const jsonOf = (value: unknown) => JSON.stringify(value);

  async function storedRows(): Promise<{ events: number; jobs: number }> {
    const { rows } = await t.db.pool.query<{ events: number; jobs: number }>(
      `SELECT (SELECT count(*)::int FROM callback_events WHERE job_id = ANY($1) OR content_hash = ANY($2)) AS events,
              (SELECT count(*)::int FROM jobs WHERE job_id = ANY($1)) AS jobs`,
      [refusedJobIds, refusedHashes],
    );
    return rows[0]!;
  }

  describe('malformed bodies', () => {
    it('answers invalid JSON with 400 INVALID_JSON', async () => {
      const job = refusedJob();
      const response = await refuse(`{"PartnerParams":{"job_id":"${job.jobId}"},`, asJson);
      expectErrorBody(response, 400, 'INVALID_JSON');
    });

    it.each([
      ['an array', '[1,2,3]'],
      ['a string', '"just a string"'],
      ['a number', '42'],
      ['null', 'null'],
    ])('answers JSON that is %s, not an object, with 400 NOT_AN_OBJECT', async (_name, payload) => {
      expectErrorBody(await refuse(payload, asJson), 400, 'NOT_AN_OBJECT');
    });

    it('answers an empty JSON body with 400 EMPTY_BODY', async () => {
      expectErrorBody(await refuse('', asJson), 400, 'EMPTY_BODY');
    });

    it.each([
      ['text/plain', { 'content-type': 'text/plain' }],
      ['form-urlencoded', { 'content-type': 'application/x-www-form-urlencoded' }],
      ['no content type at all', {}],
    ])('answers a JSON body sent as %s with 415 UNSUPPORTED_MEDIA_TYPE', async (_name, headers) => {
      const job = refusedJob();
      const response = await refuse(jsonOf(signed(resultCallback(job))), headers);
      expectErrorBody(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
    });

    it('answers 10,000 levels of nested arrays inside an object with 400 JSON_TOO_DEEP', async () => {
      const depth = 10_000;
      const payload = `{"deep":${'['.repeat(depth)}${']'.repeat(depth)}}`;
      expectErrorBody(await refuse(payload, asJson), 400, 'JSON_TOO_DEEP');
    });

    it('answers a bare array nested 10,000 levels deep with a 400', async () => {
      const depth = 10_000;
      const response = await refuse(`${'['.repeat(depth)}${']'.repeat(depth)}`, asJson);
      expect(response.statusCode).toBe(400);
      expect(['JSON_TOO_DEEP', 'INVALID_JSON', 'NOT_AN_OBJECT']).toContain(response.json().error.code);
    });

    it('answers nesting as deep as the size limit allows with 400 JSON_TOO_DEEP or INVALID_JSON', async () => {
      const depth = 1_000_000;
      const response = await refuse(`{"deep":${'['.repeat(depth)}${']'.repeat(depth)}}`, asJson);
      expect(response.statusCode).toBe(400);
      expect(isErrorBody(response.body)).toBe(true);
      expect(['JSON_TOO_DEEP', 'INVALID_JSON']).toContain(response.json().error.code);
    });

    it('answers a correctly signed body nesting 100 levels deep with 400 JSON_TOO_DEEP', async () => {
      let deep: unknown = 'bottom';
      for (let level = 0; level < 100; level += 1) deep = { level: deep };
      const body = signed({ ...resultCallback(refusedJob()), FullData: deep });
      expectErrorBody(await refuse(jsonOf(body), asJson), 400, 'JSON_TOO_DEEP');
    });

    it.each([
      ['a top-level __proto__ key', (body: string) => body.replace(/^\{/, '{"__proto__":{"isAdmin":true},')],
      ['a nested __proto__ key', (body: string) => body.replace(/^\{/, '{"Extra":{"__proto__":{"x":1}},')],
      [
        'a constructor.prototype key',
        (body: string) => body.replace(/^\{/, '{"Extra":{"constructor":{"prototype":{"x":1}}},'),
      ],
    ])('answers a signed body with %s with 400 FORBIDDEN_JSON_KEY', async (_name, inject) => {
      const payload = inject(jsonOf(signed(idInfoCallback(refusedJob()))));
      expectErrorBody(await refuse(payload, asJson), 400, 'FORBIDDEN_JSON_KEY');
    });
  });

  describe('signatures', () => {
    it('answers a body without signature or timestamp with 401 SIGNATURE_MISSING', async () => {
      const response = await refuse(jsonOf(resultCallback(refusedJob())), asJson);
      expectErrorBody(response, 401, 'SIGNATURE_MISSING');
    });

    it('answers a body with a timestamp but no signature with 401 SIGNATURE_MISSING', async () => {
      const { signature: _signature, ...body } = signed(resultCallback(refusedJob()));
      expectErrorBody(await refuse(jsonOf(body), asJson), 401, 'SIGNATURE_MISSING');
    });

    it('answers a body with a signature but no timestamp with 401 SIGNATURE_MISSING', async () => {
      const { timestamp: _timestamp, ...body } = signed(resultCallback(refusedJob()));
      expectErrorBody(await refuse(jsonOf(body), asJson), 401, 'SIGNATURE_MISSING');
    });

    it('rejects a legacy sec_key body without a signature as unsigned', async () => {
      const body = {
        ...resultCallback(refusedJob()),
        sec_key: 'bGVnYWN5LXJzYS1zZWMta2V5|0123456789abcdef',
        timestamp: Math.floor(Date.now() / 1000),
      };
      expectErrorBody(await refuse(jsonOf(body), asJson), 401, 'SIGNATURE_MISSING');
    });

    it.each([
      ['a number', 12345],
      ['an object', { value: 'x' }],
      ['an array', ['x']],
      ['null', null],
      ['an empty string', ''],
    ])('answers a signature that is %s with 401 SIGNATURE_MALFORMED', async (_name, value) => {
      const body = { ...signed(resultCallback(refusedJob())), signature: value };
      expectErrorBody(await refuse(jsonOf(body), asJson), 401, 'SIGNATURE_MALFORMED');
    });

    it.each([
      ['a number', 1_676_333_269_924],
      ['an object', { iso: new Date().toISOString() }],
      ['an array', [new Date().toISOString()]],
      ['null', null],
    ])('answers a timestamp that is %s with 401 SIGNATURE_MALFORMED', async (_name, value) => {
      const body = { ...signed(resultCallback(refusedJob())), timestamp: value };
      expectErrorBody(await refuse(jsonOf(body), asJson), 401, 'SIGNATURE_MALFORMED');
    });

    it.each([
      ['not base64', 'this is not a signature at all!'],
      ['base64 of the wrong length', Buffer.from('short').toString('base64')],
      ['hex instead of base64', 'ab'.repeat(32)],
      ['unpadded base64', 'Z4Y5zmSTo/OoYxk7zPpWz31JcQzMH4qBqq05BisfvWU'],
    ])('answers a signature string that is %s with 401 SIGNATURE_MALFORMED', async (_name, value) => {
      const body = { ...signed(resultCallback(refusedJob())), signature: value };
      expectErrorBody(await refuse(jsonOf(body), asJson), 401, 'SIGNATURE_MALFORMED');
    });

    it('answers a well-formed signature made with an unknown key with 401 SIGNATURE_INVALID', async () => {
      const timestamp = new Date().toISOString();
      const body = {
        ...resultCallback(refusedJob()),
        timestamp,
        signature: computeSignature('not-our-key', TEST_PARTNER_ID, timestamp),
      };
      expectErrorBody(await refuse(jsonOf(body), asJson), 401, 'SIGNATURE_INVALID');
    });

    it('answers a valid signature moved to another timestamp with 401 SIGNATURE_INVALID', async () => {
      const body = { ...signed(resultCallback(refusedJob())), timestamp: '2023-02-14T00:07:49.925Z' };
      expectErrorBody(await refuse(jsonOf(body), asJson), 401, 'SIGNATURE_INVALID');
    });
  });

  describe('body size', () => {
    it('refuses a Content-Length above CALLBACK_MAX_BYTES with 413 BODY_TOO_LARGE', async () => {
      const job = refusedJob();
      const body = signed(idInfoCallback(job, { photoBytes: SMALL_LIMIT }));
      const response = await refuse(jsonOf(body), asJson, small.app);
      expectErrorBody(response, 413, 'BODY_TOO_LARGE');
    });

    it('answers 413 on a declared Content-Length alone, before the body is sent', async () => {
      const job = refusedJob();
      const answer = await streamPost(small.app, '/callbacks/smile-id', {
        prefix: Buffer.from(`{"PartnerParams":{"job_id":"${job.jobId}"},"pad":"`),
        chunk: Buffer.alloc(1024, 'a'),
        totalBytes: 4096,
        contentLength: 10 * SMALL_LIMIT,
      });
      expect(answer.status).toBe(413);
      expect(answer.finished).toBe(false);
      expect(isErrorBody(answer.body)).toBe(true);
      expect(JSON.parse(answer.body).error.code).toBe('BODY_TOO_LARGE');
    });

    it('cuts off a chunked body that grows past CALLBACK_MAX_BYTES with 413 BODY_TOO_LARGE', async () => {
      const job = refusedJob();
      const totalBytes = 64 * 1024 * 1024;
      const answer = await streamPost(small.app, '/callbacks/smile-id', {
        prefix: Buffer.from(`{"PartnerParams":{"job_id":"${job.jobId}"},"pad":"`),
        chunk: Buffer.alloc(8192, 'a'),
        totalBytes,
      });
      expect(answer.status).toBe(413);
      expect(JSON.parse(answer.body)).toEqual({
        error: { code: 'BODY_TOO_LARGE', message: expect.any(String) },
      });
      // The server answered while the stream was still going, long before its end.
      expect(answer.finished).toBe(false);
      expect(answer.bytesSentBeforeAnswer).toBeLessThan(totalBytes / 4);
      expect(answer.body).not.toContain('aaaa');
    });

    it('still accepts a chunked body under the limit on the same listener', async () => {
      const job = simulatedJob();
      const answer = await streamPost(small.app, '/callbacks/smile-id', {
        prefix: Buffer.from(jsonOf(signed(resultCallback(job)))),
        chunk: Buffer.alloc(0),
        totalBytes: 0,
      });
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toMatchObject({ status: 'accepted' });
    });

    it.each([
      ['1.5 MB', 1_500_000],
      ['3 MB', 3_000_000],
    ])('accepts a correctly signed %s callback under the default limit', async (_name, photoBytes) => {
      const job = simulatedJob();
      const payload = jsonOf(signed(idInfoCallback(job, { photoBytes })));
      expect(payload.length).toBeGreaterThan(photoBytes);
      expect(payload.length).toBeLessThan(t.config.CALLBACK_MAX_BYTES);
      const response = await postCallback(t.app, payload);
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ status: 'accepted', eventId: expect.any(String) });
      const { rows } = await t.db.pool.query('SELECT body_bytes FROM callback_events WHERE job_id = $1', [
        job.jobId,
      ]);
      expect(rows).toEqual([{ body_bytes: Buffer.byteLength(payload) }]);
    });
  });

  it('stores nothing for any refused request, while an accepted one is counted', async () => {
    expect(refusedJobIds.length).toBeGreaterThan(20);
    expect(await storedRows()).toEqual({ events: 0, jobs: 0 });

    // The same query does see a stored callback, so the zero above is not vacuous.
    const job = simulatedJob();
    refusedJobIds.push(job.jobId);
    expect((await postCallback(t.app, signed(resultCallback(job)))).statusCode).toBe(200);
    expect(await storedRows()).toEqual({ events: 1, jobs: 1 });
  });
});

describe('POST /callbacks/smile-id with generated input', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t?.close());

  const contentType = fc.oneof(
    fc.constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'application/vnd.smileid+json',
      'APPLICATION/JSON',
      'text/plain',
      'text/json',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/octet-stream',
      'application/jsonx',
      '',
    ),
    fc.string({ unit: 'grapheme-ascii', maxLength: 40 }),
    fc.constant(undefined),
  );

  const anyValue = fc.anything({ maxDepth: 3 });
  /** Text Postgres cannot hold as it is (U+0000, unpaired surrogates) and ids too long to index. */
  const hostileText = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.string({ unit: 'binary', minLength: 3000, maxLength: 4000 }),
  );
  const hostileValue = fc.oneof(
    anyValue,
    hostileText,
    fc.integer({ min: -(2 ** 52), max: 2 ** 52 }),
    fc.integer({ min: -(2 ** 52), max: 2 ** 52 }).map(String),
  );
  const validTimestamp = fc
    .date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
    .map((date) => date.toISOString());
  const loosePartnerParams = fc.record(
    { job_id: hostileValue, user_id: hostileValue, job_type: hostileValue },
    { requiredKeys: [] },
  );
  const smileLikeFields = fc.record(
    {
      PartnerParams: fc.oneof(loosePartnerParams, anyValue),
      Actions: fc.oneof(fc.dictionary(hostileText, hostileText, { maxKeys: 4 }), anyValue),
      ResultCode: fc.oneof(fc.constantFrom('1210', '0814', '0907', '1012', '5211'), anyValue),
      ResultText: hostileValue,
      IsFinalResult: anyValue,
      SmileJobID: hostileValue,
      FullName: hostileValue,
      IDNumber: hostileValue,
      Photo: hostileValue,
      FullData: hostileValue,
      Antifraud: fc.oneof(
        fc.record({ SuspectUsers: fc.array(fc.record({ user_id: hostileValue, reason: hostileValue })) }),
        anyValue,
      ),
      UserIDsOfPreviousRegistrants: fc.oneof(fc.array(hostileValue, { maxLength: 3 }), anyValue),
      job_complete: anyValue,
      result: anyValue,
      history: anyValue,
    },
    { requiredKeys: [] },
  );

  /** The body text: valid JSON of every kind, random bytes, and Smile-like objects signed or not. */
  const payload = fc.oneof(
    fc.json({ maxDepth: 4 }),
    anyValue.map((value) => JSON.stringify(value) ?? String(value)),
    fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes)),
    fc
      .record({ signature: anyValue, timestamp: anyValue, fields: smileLikeFields }, { requiredKeys: [] })
      .map(({ fields, ...envelope }) => JSON.stringify({ ...fields, ...envelope })),
    fc
      .record({ fields: smileLikeFields, timestamp: fc.oneof(validTimestamp, fc.string()) })
      .map(({ fields, timestamp }) => JSON.stringify(signed(fields, timestamp))),
  );

  it('never answers 500 or above, and every refusal has the error shape', async () => {
    await fc.assert(
      fc.asyncProperty(contentType, payload, async (type, body) => {
        const response = await t.app.inject({
          method: 'POST',
          url: '/callbacks/smile-id',
          headers: type === undefined ? {} : { 'content-type': type },
          payload: body,
        });
        expect(response.statusCode).toBeLessThan(500);
        if (response.statusCode === 200) {
          expect(response.json()).toEqual({
            status: expect.stringMatching(/^(accepted|duplicate)$/),
            eventId: expect.any(String),
          });
        } else {
          expect(isErrorBody(response.body), response.body).toBe(true);
          const text = Buffer.isBuffer(body) ? body.toString('utf8') : body;
          if (text.length >= 32) expect(response.body).not.toContain(text);
        }
      }),
      { numRuns: 200 },
    );
  });

  it.each([
    ['a job id holding U+0000', { PartnerParams: { job_id: `job-${randomUUID()}\u0000`, user_id: 'u' } }],
    [
      'a user id with an unpaired surrogate',
      { PartnerParams: { job_id: `job-${randomUUID()}`, user_id: '\ud800' } },
    ],
    ['a 10,000-character job id', { PartnerParams: { job_id: `job-${'x'.repeat(10_000)}-${randomUUID()}` } }],
    [
      'a job_type beyond a 32-bit integer',
      { PartnerParams: { job_id: `job-${randomUUID()}`, job_type: 2 ** 40 } },
    ],
    [
      'Actions and ID fields holding U+0000',
      { Actions: { 'Liveness\u0000': 'Passed\u0000' }, FullName: 'A\u0000B' },
    ],
  ])('stores a correctly signed body with %s instead of answering 5xx', async (_name, fields) => {
    const body = signed({ ...resultCallback(simulatedJob()), ...fields });
    const response = await postCallback(t.app, body);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({ status: 'accepted' });
  });
});
