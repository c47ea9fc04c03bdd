import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_TOKEN } from '../helpers/app.js';
import { isErrorBody } from '../helpers/http.js';
import { startService, startSimulator, type TestService, type TestSimulator } from '../helpers/service.js';

const INT32_MAX = 2_147_483_647;

describe('edges: numbers and media types at the /v1 boundary', () => {
  let simulator: TestSimulator;
  let service: TestService;
  beforeAll(async () => {
    simulator = await startSimulator();
    service = await startService(simulator.url);
  });
  afterAll(async () => {
    await service.close();
    await simulator.close();
  });

  /** Sends exact body text, so numbers reach the service as written (JSON.stringify would round them). */
  /** `contentType` null sends none. */
  async function post(path: string, text: string, contentType: string | null = 'application/json') {
    const response = await fetch(`${service.baseUrl}${path}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${API_TOKEN}`,
        ...(contentType === null ? {} : { 'content-type': contentType }),
      },
      // Bytes, not a string: fetch would label a string text/plain by itself.
      body: Buffer.from(text),
    });
    return { status: response.status, text: await response.text() };
  }

  async function get(path: string) {
    const response = await fetch(`${service.baseUrl}${path}`, {
      headers: { authorization: `Bearer ${API_TOKEN}` },
    });
    return { status: response.status, text: await response.text() };
  }

  it('refuses POST /v1/jobs with jobType 2147483648 as 400, where the driver once failed with a 500', async () => {
    const jobId = `int32-${randomUUID()}`;
    const answer = await post('/v1/jobs', `{"jobId":"${jobId}","userId":"u","jobType":2147483648}`);
    expect(answer.status, answer.text).toBe(400);
    expect(JSON.parse(answer.text).error).toEqual({
      code: 'VALIDATION_FAILED',
      message: expect.stringContaining('jobType'),
    });
    expect((await get(`/v1/jobs/${jobId}`)).status).toBe(404);
    expect(service.logs()).not.toMatch(/out of range|INTERNAL_ERROR/);
  });

  it.each([
    ['a number beyond 2^53', '9007199254740993'],
    ['a huge exponent', '1e308'],
    ['an exponent past a double', '1e400'],
    ['a negative number', '-1'],
    ['zero', '0'],
    ['a fraction', '1.5'],
    ['a numeric string', '"1"'],
  ])('refuses a jobType that is %s with 400 VALIDATION_FAILED', async (_what, literal) => {
    const answer = await post('/v1/jobs', `{"jobId":"n-${randomUUID()}","userId":"u","jobType":${literal}}`);
    expect(answer.status, answer.text).toBe(400);
    expect(isErrorBody(answer.text)).toBe(true);
    expect(JSON.parse(answer.text).error.code).toBe('VALIDATION_FAILED');
  });

  it('accepts jobType at the largest Postgres integer and stores it exactly', async () => {
    const jobId = `int32-max-${randomUUID()}`;
    const answer = await post('/v1/jobs', `{"jobId":"${jobId}","userId":"u","jobType":${INT32_MAX}}`);
    expect(answer.status, answer.text).toBe(201);
    expect(JSON.parse(answer.text).jobType).toBe(INT32_MAX);
  });

  it.each([
    '/v1/jobs?limit=201',
    '/v1/jobs?limit=99999999999999999999',
    '/v1/jobs?limit=-1',
    '/v1/jobs?limit=1e3',
    `/v1/jobs?cursor=${Buffer.from(JSON.stringify({ seq: '9'.repeat(30) })).toString('base64url')}`,
    `/v1/jobs?cursor=${Buffer.from(JSON.stringify({ seq: -1 })).toString('base64url')}`,
    '/v1/jobs?updatedSince=275760-09-14T00:00:00Z',
    '/v1/jobs/some-job/events?limit=100000000000',
  ])('refuses %s with 400 in the error shape, never a database error', async (path) => {
    const answer = await get(path);
    expect(answer.status, answer.text).toBe(400);
    expect(isErrorBody(answer.text), answer.text).toBe(true);
  });

  it.each([
    ['text/plain', 'text/plain', '{"jobId":"x","userId":"u"}'],
    ['a form', 'application/x-www-form-urlencoded', 'jobId=x&userId=u'],
    ['XML', 'application/xml', '<job><jobId>x</jobId></job>'],
    [
      'multipart',
      'multipart/form-data; boundary=b',
      '--b\r\nContent-Disposition: form-data; name="jobId"\r\n\r\nx\r\n--b--',
    ],
    ['a look-alike of JSON', 'application/jsonp', '{"jobId":"x","userId":"u"}'],
    ['no content type at all', null, '{"jobId":"x","userId":"u"}'],
  ])('answers POST /v1/jobs with %s with 415', async (_what, contentType, body) => {
    const answer = await post('/v1/jobs', body, contentType);
    expect(answer.status, answer.text).toBe(415);
    expect(JSON.parse(answer.text).error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect((await get('/v1/jobs/x')).status).toBe(404);
  });

  it('answers a non-JSON body to a JSON route without a body schema with 415', async () => {
    const answer = await post('/v1/jobs/any-job/reconcile', 'check it', 'text/plain');
    expect(answer.status, answer.text).toBe(415);
    expect(isErrorBody(answer.text)).toBe(true);
  });

  it('answers a non-JSON callback with 415', async () => {
    const answer = await post(
      '/callbacks/smile-id',
      'signature=x&timestamp=y',
      'application/x-www-form-urlencoded',
    );
    expect(answer.status, answer.text).toBe(415);
    expect(JSON.parse(answer.text).error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('documents 503 STORAGE_UNAVAILABLE on the /v1 routes', async () => {
    const response = await fetch(`${service.baseUrl}/docs/json`);
    const spec = (await response.json()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    for (const [path, operations] of Object.entries(spec.paths).filter(([path]) => path.startsWith('/v1/'))) {
      for (const [method, operation] of Object.entries(operations)) {
        expect(operation.responses, `${method} ${path}`).toHaveProperty('503');
      }
    }
  });
});
