import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type ErrorCode, statusesOf } from '../../src/http/coded-error.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { expectErrorBody } from '../helpers/http.js';

interface OpenApiDocument {
  openapi: string;
  paths: Record<
    string,
    Record<
      string,
      {
        parameters?: { name: string; in: string }[];
        security?: unknown;
        responses?: Record<string, unknown>;
        requestBody?: unknown;
      }
    >
  >;
  components?: { schemas?: Record<string, unknown> };
}

/** Every /v1 route the service serves, in OpenAPI's path syntax. */
const V1_ROUTES = [
  ['get', '/v1/jobs'],
  ['post', '/v1/jobs'],
  ['get', '/v1/jobs/{jobId}'],
  ['get', '/v1/jobs/{jobId}/events'],
  ['get', '/v1/jobs/{jobId}/images'],
  ['post', '/v1/jobs/{jobId}/reconcile'],
  ['get', '/v1/users/{userId}'],
  ['delete', '/v1/users/{userId}/identity-data'],
  ['get', '/v1/reviews'],
  ['post', '/v1/jobs/{jobId}/review'],
  ['post', '/v1/submissions'],
  ['get', '/v1/changes'],
  ['get', '/v1/notifications/dead-letters'],
  ['post', '/v1/notifications/dead-letters/{id}/redeliver'],
  ['get', '/v1/notifications/endpoints'],
  ['post', '/v1/notifications/endpoints/{id}/enable'],
  ['delete', '/v1/notifications/endpoints/{id}'],
] as const;

describe('the API documentation', () => {
  let t: TestApp;
  let document: OpenApiDocument;
  beforeAll(async () => {
    t = await createTestApp();
    const response = await t.app.inject({ method: 'GET', url: '/docs/json' });
    expect(response.statusCode).toBe(200);
    document = response.json();
  });
  afterAll(() => t?.close());

  it('serves a valid OpenAPI 3 document at /docs/json without a token', async () => {
    expect(document.openapi).toMatch(/^3\./);
    const result = await new Validator().validate(document as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('resolves every schema reference, and keeps no schema nothing refers to', () => {
    const text = JSON.stringify(document);
    const referenced = new Set(
      [...text.matchAll(/"#\/components\/schemas\/([^"]+)"/g)].map((match) => match[1]),
    );
    const components = Object.keys(
      (document as { components?: { schemas?: object } }).components?.schemas ?? {},
    );
    expect([...referenced].sort()).toEqual([...components].sort());
    expect(components).toEqual(expect.arrayContaining(['Job', 'JobPage', 'JobEventPage', 'Error']));
  });

  it('lists every /v1 route, each behind the bearer scheme', () => {
    const v1 = Object.entries(document.paths)
      .filter(([path]) => path.startsWith('/v1/'))
      .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method} ${path}`))
      .sort();
    expect(v1).toEqual(V1_ROUTES.map(([method, path]) => `${method} ${path}`).sort());
    for (const [method, path] of V1_ROUTES) {
      expect(document.paths[path]?.[method]?.security).toEqual([{ bearerAuth: [] }]);
    }
  });

  it('documents the list filters from the same schemas that validate them', () => {
    const names = document.paths['/v1/jobs']?.get?.parameters?.map((parameter) => parameter.name);
    expect(names?.sort()).toEqual(
      [
        'cursor',
        'decision',
        'idNumberPreviouslyRegistered',
        'isFinal',
        'limit',
        'stale',
        'state',
        'updatedSince',
        'userId',
      ].sort(),
    );
  });

  it('describes every error response by codes of the catalog that are answered with its status', () => {
    for (const [method, path] of V1_ROUTES) {
      const responses = Object.entries(document.paths[path]?.[method]?.responses ?? {});
      const errors = responses.filter(([status]) => Number(status) >= 400);
      expect(errors.map(([status]) => status)).toEqual(expect.arrayContaining(['400', '401', '500', '503']));
      for (const [status, response] of errors) {
        const { description } = response as { description: string };
        const named = [...description.matchAll(/^- `([A-Z_]+)`: /gm)].map((match) => match[1] as ErrorCode);
        expect(named.length, `${method} ${path} ${status}`).toBeGreaterThan(0);
        for (const code of named)
          expect(statusesOf(code), `${method} ${path} ${code}`).toContain(Number(status));
      }
    }
    const images = document.paths['/v1/jobs/{jobId}/images']?.get?.responses ?? {};
    expect(JSON.stringify(images['504'])).toContain('SMILE_ID_UNAVAILABLE');
    const changes = document.paths['/v1/changes']?.get?.responses ?? {};
    expect(JSON.stringify(changes['429'])).toContain('CHANGE_FEED_BUSY');
    expect(JSON.stringify(changes['503'])).not.toContain('CHANGE_FEED_BUSY');
  });

  it('documents the submission route: its body, its answers and the Submission in every job', () => {
    const operation = document.paths['/v1/submissions']?.post;
    expect(Object.keys(operation?.responses ?? {})).toEqual(
      expect.arrayContaining(['200', '202', '400', '409', '413', '501', '503']),
    );
    expect(JSON.stringify(operation?.responses?.['501'])).toContain('SUBMISSIONS_NOT_CONFIGURED');
    const body = JSON.stringify(operation?.requestBody);
    for (const field of ['userId', 'idInfo', 'images', 'jpegBase64', 'partnerParams', 'idCardBack']) {
      expect(body).toContain(field);
    }
    expect(JSON.stringify(document.components?.schemas?.Job)).toContain('#/components/schemas/Submission');
  });

  it('documents the review routes: the queue, the body a person sends, and who may send it', () => {
    const settle = document.paths['/v1/jobs/{jobId}/review']?.post;
    expect(Object.keys(settle?.responses ?? {})).toEqual(
      expect.arrayContaining(['200', '400', '403', '404', '409']),
    );
    expect(JSON.stringify(settle?.responses?.['403'])).toContain('REVIEW_FORBIDDEN');
    expect(JSON.stringify(settle?.responses?.['409'])).toContain('NOT_IN_REVIEW');
    const body = JSON.stringify(settle?.requestBody);
    for (const field of ['decision', 'approve', 'reject', 'reason', 'note']) expect(body).toContain(field);
    const queue = document.paths['/v1/reviews']?.get;
    expect(queue?.parameters?.map((parameter) => parameter.name).sort()).toEqual(['cursor', 'limit']);
    const user = document.paths['/v1/users/{userId}']?.get;
    expect(JSON.stringify(user?.responses?.['404'])).toContain('USER_NOT_FOUND');
    expect(JSON.stringify(document.components?.schemas?.User)).toContain('verifiedBy');
  });

  it('serves the UI as HTML at /docs', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/docs' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.body).toContain('swagger-ui');
  });
});

describe('DOCS_ENABLED', () => {
  it('defaults to on outside production and off in production', () => {
    expect(loadConfig({ NODE_ENV: 'development' }).DOCS_ENABLED).toBe(true);
    expect(loadConfig({ NODE_ENV: 'test' }).DOCS_ENABLED).toBe(true);
    const production = {
      NODE_ENV: 'production',
      SMILE_PARTNER_ID: '123',
      SMILE_API_KEYS: 'k',
      INTERNAL_API_TOKENS: 'a',
      INTERNAL_PII_TOKENS: 'b',
      INTERNAL_ADMIN_TOKENS: 'c',
      INTERNAL_REVIEW_TOKENS: 'd',
      DATA_ENCRYPTION_KEYS: `prod:${Buffer.alloc(32, 7).toString('base64')}`,
      CALLBACK_ALLOWED_CIDRS: 'any',
      OBJECT_STORE_BUCKET: 'photos',
    };
    expect(loadConfig(production).DOCS_ENABLED).toBe(false);
    expect(loadConfig({ ...production, DOCS_ENABLED: 'true' }).DOCS_ENABLED).toBe(true);
    expect(() => loadConfig({ DOCS_ENABLED: 'yes' })).toThrow(/DOCS_ENABLED/);
  });

  it('removes /docs and /docs/json when false, and leaves the API alone', async () => {
    const t = await createTestApp({ env: { DOCS_ENABLED: 'false' } });
    try {
      expectErrorBody(await t.app.inject({ method: 'GET', url: '/docs' }), 404, 'ROUTE_NOT_FOUND');
      expectErrorBody(await t.app.inject({ method: 'GET', url: '/docs/json' }), 404, 'ROUTE_NOT_FOUND');
      expectErrorBody(await t.app.inject({ method: 'GET', url: '/v1/jobs' }), 401, 'UNAUTHENTICATED');
    } finally {
      await t.close();
    }
  });
});
