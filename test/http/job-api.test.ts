import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulatedJob } from '../../src/simulator/callbacks.js';
import { API_TOKEN, createTestApp, PII_TOKEN, type TestApp } from '../helpers/app.js';
import { storeJob } from '../helpers/callbacks.js';
import { expectErrorBody, isErrorBody } from '../helpers/http.js';

describe('GET /v1/jobs/:jobId', () => {
  let t: TestApp;
  const job = simulatedJob();

  beforeAll(async () => {
    t = await createTestApp();
    await storeJob(t.app, job);
  });
  afterAll(() => t?.close());

  const getJob = (path: string, authorization?: string) =>
    t.app.inject({
      method: 'GET',
      url: path,
      headers: authorization === undefined ? {} : { authorization },
    });

  it('serves a known job to an ordinary token, without identity data', async () => {
    const response = await getJob(`/v1/jobs/${job.jobId}`, `Bearer ${API_TOKEN}`);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ jobId: job.jobId, state: 'approved' });
    expect(response.json()).not.toHaveProperty('idInfo');
    expect(response.body).not.toContain(job.idNumber);
  });

  it('answers 401 UNAUTHENTICATED without an Authorization header', async () => {
    expectErrorBody(await getJob(`/v1/jobs/${job.jobId}`), 401, 'UNAUTHENTICATED');
  });

  it.each([
    ['a wrong token', 'Bearer not-a-token-we-issued'],
    ['an empty bearer', 'Bearer '],
    ['a token differing only in case', `Bearer ${API_TOKEN.toUpperCase()}`],
    ['the Basic scheme', `Basic ${Buffer.from(`user:${API_TOKEN}`).toString('base64')}`],
    ['the right token under another scheme', `Token ${API_TOKEN}`],
    ['the bare token without a scheme', API_TOKEN],
    ['two tokens', `Bearer ${API_TOKEN} ${PII_TOKEN}`],
  ])('answers 401 UNAUTHENTICATED to %s', async (_name, authorization) => {
    const response = await getJob(`/v1/jobs/${job.jobId}`, authorization);
    expectErrorBody(response, 401, 'UNAUTHENTICATED');
    expect(response.body).not.toContain(job.userId);
  });

  it('answers 401 before saying whether a job exists', async () => {
    const response = await getJob('/v1/jobs/job-that-does-not-exist', 'Bearer wrong');
    expectErrorBody(response, 401, 'UNAUTHENTICATED');
  });

  it('answers 404 JOB_NOT_FOUND for an unknown job', async () => {
    const response = await getJob('/v1/jobs/job-that-does-not-exist', `Bearer ${API_TOKEN}`);
    expectErrorBody(response, 404, 'JOB_NOT_FOUND');
  });

  it.each([
    ['an unknown query parameter', '?foo=bar'],
    ['include=other', '?include=other'],
    ['include given twice', '?include=idInfo&include=idInfo'],
    ['an empty include', '?include='],
  ])('answers 400 VALIDATION_FAILED for %s', async (_name, query) => {
    const response = await getJob(`/v1/jobs/${job.jobId}${query}`, `Bearer ${PII_TOKEN}`);
    expectErrorBody(response, 400, 'VALIDATION_FAILED');
  });

  // Errors the router raises before any route runs (an over-long parameter, bad percent-encoding) get
  // the same coded body, through Fastify's `frameworkErrors`.
  it.each([
    ['a 101-character job id', `/v1/jobs/${'j'.repeat(101)}`, 404, 'JOB_NOT_FOUND'],
    ['a 201-character job id', `/v1/jobs/${'j'.repeat(201)}`, 400, 'VALIDATION_FAILED'],
    ['a 300-character job id', `/v1/jobs/${'j'.repeat(300)}`, 400, 'VALIDATION_FAILED'],
    // Past two UTF-16 units per character of the longest id, the router refuses it before any rule.
    ['a 401-character job id', `/v1/jobs/${'j'.repeat(401)}`, 414, 'PATH_TOO_LONG'],
    ['a malformed percent-encoding', '/v1/jobs/%E0%A4%A', 400, 'BAD_URL'],
  ])('answers %s with a coded error body', async (_name, url, status, code) => {
    const response = await getJob(url, `Bearer ${API_TOKEN}`);
    expect(isErrorBody(response.body), response.body).toBe(true);
    expectErrorBody(response, status, code);
  });

  it('answers 403 PII_FORBIDDEN for include=idInfo with an ordinary token', async () => {
    const response = await getJob(`/v1/jobs/${job.jobId}?include=idInfo`, `Bearer ${API_TOKEN}`);
    expectErrorBody(response, 403, 'PII_FORBIDDEN');
    expect(response.body).not.toContain(job.fullName);
  });

  it('serves idInfo for include=idInfo with a PII token', async () => {
    const response = await getJob(`/v1/jobs/${job.jobId}?include=idInfo`, `bearer ${PII_TOKEN}`);
    expect(response.statusCode).toBe(200);
    expect(response.json().idInfo).toMatchObject({ fullName: job.fullName, idNumber: job.idNumber });
  });
});

describe('POST /v1/jobs', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t?.close());

  const register = (payload: unknown, authorization = `Bearer ${API_TOKEN}`) =>
    t.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: { authorization, 'content-type': 'application/json' },
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    });

  it('registers a job and answers 201 with its outcome', async () => {
    const job = simulatedJob();
    const response = await register({ jobId: job.jobId, userId: job.userId, jobType: 1, country: 'NG' });
    expect(response.statusCode).toBe(201);
    expect(response.json()).toMatchObject({ jobId: job.jobId, userId: job.userId, state: 'pending' });
  });

  it.each([
    ['an unknown field', { jobId: 'j-1', userId: 'u-1', colour: 'blue' }, 'body: unknown field colour'],
    ['a missing userId', { jobId: 'j-1' }, 'body: userId Invalid input: expected string, received undefined'],
    ['a jobType that is a string', { jobId: 'j-1', userId: 'u-1', jobType: '1' }, undefined],
    [
      'a NUL character in the job id',
      { jobId: 'j\u00001', userId: 'u-1' },
      'body: jobId must not contain NUL characters',
    ],
    ['a three-letter country', { jobId: 'j-1', userId: 'u-1', country: 'NGA' }, undefined],
  ])('answers 400 VALIDATION_FAILED for %s, naming the field', async (_name, payload, message) => {
    const response = await register(payload);
    expectErrorBody(response, 400, 'VALIDATION_FAILED');
    if (message) expect(response.json().error.message).toBe(message);
  });

  it('answers 401 to a caller without a token before reading the body', async () => {
    expectErrorBody(await register('{not json', 'Bearer wrong'), 401, 'UNAUTHENTICATED');
    expectErrorBody(await register({ colour: 'blue' }, 'Bearer wrong'), 401, 'UNAUTHENTICATED');
  });
});

describe('routes outside the job API', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t?.close());

  it.each([
    ['GET', '/does-not-exist'],
    ['GET', '/v1/nothing-here'],
    ['POST', '/callbacks/someone-else'],
    ['DELETE', '/v1/jobs/some-job'],
    ['GET', '/callbacks/smile-id'],
  ] as const)('answers %s %s with 404 ROUTE_NOT_FOUND', async (method, url) => {
    const response = await t.app.inject({ method, url: `${url}?secret=query-value` });
    expectErrorBody(response, 404, 'ROUTE_NOT_FOUND');
    expect(response.body).not.toContain('query-value');
  });

  it('answers GET /healthz with 200', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/healthz' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
  });

  it('answers GET /readyz with 200 and postgres ok', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ status: 'ready', checks: { postgres: 'ok' } });
  });
});
