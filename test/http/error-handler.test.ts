import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { CodedError } from '../../src/http/coded-error.js';
import { testConfig } from '../helpers/app.js';
import { expectErrorBody } from '../helpers/http.js';
import { capturingLogger } from '../helpers/logs.js';

/** The app's own error handler, reached through routes that fail the ways flows and routes can. */
describe('the error handler', () => {
  let app: FastifyInstance;
  let logs: () => string;
  beforeAll(async () => {
    const captured = capturingLogger('info');
    logs = captured.logs;
    app = await buildApp({ config: testConfig(), logger: captured.logger, readinessChecks: {} });
    app.get('/fault', async () => {
      throw new Error('a bug');
    });
    app.get('/fault-claiming-503', async () => {
      throw Object.assign(new Error('a bug that names a status'), { statusCode: 503 });
    });
    app.get('/store-unreachable', async () => {
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    });
    app.get('/plugin-refusal', async () => {
      throw Object.assign(new Error('not acceptable'), { statusCode: 406 });
    });
    app.get('/busy', async () => {
      throw new CodedError({ code: 'CHANGE_FEED_BUSY' });
    });
    app.get('/smile-id-timeout', async () => {
      throw new CodedError({ code: 'SMILE_ID_UNAVAILABLE', variant: 'timeout' });
    });
    app.get('/conflict', async () => {
      throw new CodedError({ code: 'JOB_CONFLICT' });
    });
  });
  afterAll(() => app?.close());

  const get = (url: string) => app.inject({ method: 'GET', url });

  it('answers a fault 500 INTERNAL_ERROR with the generic message, and logs it as an error', async () => {
    const answer = await get('/fault');
    expectErrorBody(answer, 500, 'INTERNAL_ERROR');
    expect(answer.json().error.message).toBe('internal error');
    expect(answer.headers['retry-after']).toBeUndefined();
    expect(logs()).toContain('"level":50');
  });

  it('answers a fault 500 even when the error claims 503: only an unreachable store is a 503', async () => {
    const answer = await get('/fault-claiming-503');
    expectErrorBody(answer, 500, 'INTERNAL_ERROR');
    expect(answer.headers['retry-after']).toBeUndefined();
  });

  it('answers an unreachable store 503 STORAGE_UNAVAILABLE with Retry-After', async () => {
    const answer = await get('/store-unreachable');
    expectErrorBody(answer, 503, 'STORAGE_UNAVAILABLE');
    expect(answer.headers['retry-after']).toBe('5');
  });

  it('keeps the 4xx status of a refusal from Fastify or a plugin that the catalog does not name', async () => {
    expectErrorBody(await get('/plugin-refusal'), 406, 'BAD_REQUEST');
  });

  it('answers a coded error with the status, message and Retry-After the catalog declares', async () => {
    const busy = await get('/busy');
    expectErrorBody(busy, 429, 'CHANGE_FEED_BUSY');
    expect(busy.headers['retry-after']).toBe('2');

    const timeout = await get('/smile-id-timeout');
    expectErrorBody(timeout, 504, 'SMILE_ID_UNAVAILABLE');
    expect(timeout.json().error.message).toBe('Smile ID did not answer in time');
    expect(timeout.headers['retry-after']).toBe('5');

    const conflict = await get('/conflict');
    expectErrorBody(conflict, 409, 'JOB_CONFLICT');
    expect(conflict.json().error.message).toBe('this job id is already known for another user');
  });

  it('answers an unknown route 404 ROUTE_NOT_FOUND', async () => {
    const answer = await get('/nowhere');
    expectErrorBody(answer, 404, 'ROUTE_NOT_FOUND');
  });
});
