import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { answerTo, CodedError, type ErrorCode, type Refusal, statusesOf } from './coded-error.js';
import { ERRORS } from './error-catalog.js';

/** One refusal of every code, each variant included: the compiler asks for a new code's here. */
const SAMPLE_REFUSALS: { [C in ErrorCode]: Extract<Refusal, { code: C }>[] } = {
  EMPTY_BODY: [{ code: 'EMPTY_BODY' }],
  INVALID_JSON: [{ code: 'INVALID_JSON' }],
  NOT_AN_OBJECT: [{ code: 'NOT_AN_OBJECT' }],
  JSON_TOO_DEEP: [{ code: 'JSON_TOO_DEEP', max: 64 }],
  JSON_TOO_COMPLEX: [{ code: 'JSON_TOO_COMPLEX', max: 5000, counted: 'object keys' }],
  FORBIDDEN_JSON_KEY: [{ code: 'FORBIDDEN_JSON_KEY' }],
  INVALID_CONTENT_LENGTH: [{ code: 'INVALID_CONTENT_LENGTH' }],
  MALFORMED_REQUEST: [{ code: 'MALFORMED_REQUEST' }],
  BAD_URL: [{ code: 'BAD_URL' }],
  VALIDATION_FAILED: [{ code: 'VALIDATION_FAILED', where: 'query', problem: 'limit must be at most 100' }],
  INVALID_CURSOR: [{ code: 'INVALID_CURSOR', where: 'query', problem: 'cursor is not a cursor' }],
  IMAGE_COUNT: [{ code: 'IMAGE_COUNT', type: 'selfie', min: 1, max: 1, count: 2 }],
  IMAGE_NOT_JPEG: [{ code: 'IMAGE_NOT_JPEG', index: 1, reason: 'no end marker' }],
  IMAGE_TOO_LARGE: [{ code: 'IMAGE_TOO_LARGE', index: 0, bytes: 11, limit: 10 }],
  BAD_REQUEST: [{ code: 'BAD_REQUEST' }],
  SIGNATURE_MISSING: [{ code: 'SIGNATURE_MISSING' }],
  SIGNATURE_MALFORMED: [
    { code: 'SIGNATURE_MALFORMED', variant: 'fields' },
    { code: 'SIGNATURE_MALFORMED', variant: 'signature' },
  ],
  SIGNATURE_INVALID: [{ code: 'SIGNATURE_INVALID' }],
  UNAUTHENTICATED: [
    { code: 'UNAUTHENTICATED', variant: 'missing' },
    { code: 'UNAUTHENTICATED', variant: 'unknown' },
  ],
  SOURCE_NOT_ALLOWED: [{ code: 'SOURCE_NOT_ALLOWED' }],
  ADMIN_FORBIDDEN: [{ code: 'ADMIN_FORBIDDEN' }],
  PII_FORBIDDEN: [
    { code: 'PII_FORBIDDEN', variant: 'token' },
    { code: 'PII_FORBIDDEN', variant: 'notInReview' },
  ],
  REVIEW_FORBIDDEN: [{ code: 'REVIEW_FORBIDDEN' }],
  JOB_NOT_FOUND: [{ code: 'JOB_NOT_FOUND' }],
  USER_NOT_FOUND: [{ code: 'USER_NOT_FOUND' }],
  ROUTE_NOT_FOUND: [{ code: 'ROUTE_NOT_FOUND', method: 'GET', path: '/nowhere' }],
  NOT_FOUND: [
    { code: 'NOT_FOUND', what: 'dead letter' },
    { code: 'NOT_FOUND', what: 'endpoint' },
  ],
  REQUEST_TIMEOUT: [{ code: 'REQUEST_TIMEOUT' }],
  JOB_CONFLICT: [{ code: 'JOB_CONFLICT' }],
  NO_USER_ID: [{ code: 'NO_USER_ID' }],
  NOT_IN_REVIEW: [{ code: 'NOT_IN_REVIEW' }],
  SUBMISSION_CONFLICT: [{ code: 'SUBMISSION_CONFLICT' }],
  JOB_ID_IN_USE: [{ code: 'JOB_ID_IN_USE' }],
  ENDPOINT_CONFIGURED: [{ code: 'ENDPOINT_CONFIGURED' }],
  ENDPOINT_RETIRED: [{ code: 'ENDPOINT_RETIRED' }],
  BODY_TOO_LARGE: [{ code: 'BODY_TOO_LARGE' }],
  PATH_TOO_LONG: [{ code: 'PATH_TOO_LONG' }],
  UNSUPPORTED_MEDIA_TYPE: [
    { code: 'UNSUPPORTED_MEDIA_TYPE', variant: 'notJson' },
    { code: 'UNSUPPORTED_MEDIA_TYPE', variant: 'invalid' },
  ],
  RATE_LIMITED: [{ code: 'RATE_LIMITED' }],
  CHANGE_FEED_BUSY: [{ code: 'CHANGE_FEED_BUSY' }],
  HEADERS_TOO_LARGE: [{ code: 'HEADERS_TOO_LARGE' }],
  INTERNAL_ERROR: [{ code: 'INTERNAL_ERROR' }],
  CALLBACK_NOT_STORED: [{ code: 'CALLBACK_NOT_STORED' }],
  SUBMISSIONS_NOT_CONFIGURED: [{ code: 'SUBMISSIONS_NOT_CONFIGURED' }],
  SMILE_ID_BAD_SIGNATURE: [{ code: 'SMILE_ID_BAD_SIGNATURE' }],
  SMILE_ID_UNAUTHORIZED: [{ code: 'SMILE_ID_UNAUTHORIZED', smileCode: '2205' }],
  SMILE_ID_ERROR: [{ code: 'SMILE_ID_ERROR', smileCode: '2203' }],
  SMILE_ID_UNAVAILABLE: [
    { code: 'SMILE_ID_UNAVAILABLE', variant: 'failed' },
    { code: 'SMILE_ID_UNAVAILABLE', variant: 'timeout' },
  ],
  STORAGE_UNAVAILABLE: [{ code: 'STORAGE_UNAVAILABLE' }],
  OBJECT_STORE_UNAVAILABLE: [{ code: 'OBJECT_STORE_UNAVAILABLE' }],
  SHUTTING_DOWN: [{ code: 'SHUTTING_DOWN' }],
};

const codes = Object.keys(ERRORS) as ErrorCode[];

describe('answering a refusal from the catalog', () => {
  it('gives every code its declared status, a message, and Retry-After exactly when declared', () => {
    for (const code of codes) {
      const definition = ERRORS[code] as { retryAfterSeconds?: number };
      for (const refusal of SAMPLE_REFUSALS[code]) {
        const answer = answerTo(refusal);
        expect(answer.code).toBe(code);
        expect(statusesOf(code)).toContain(answer.status);
        expect(answer.message.length, code).toBeGreaterThan(0);
        expect(answer.headers).toEqual(
          definition.retryAfterSeconds === undefined
            ? {}
            : { 'retry-after': String(definition.retryAfterSeconds) },
        );
      }
    }
  });

  it('answers a fixed message as declared, and fills a message from the values its refusal carries', () => {
    expect(answerTo({ code: 'JOB_NOT_FOUND' })).toEqual({
      status: 404,
      code: 'JOB_NOT_FOUND',
      message: 'no job with this id',
      headers: {},
    });
    expect(answerTo({ code: 'IMAGE_TOO_LARGE', index: 0, bytes: 11, limit: 10 }).message).toBe(
      'images[0] is 11 bytes; the limit is 10',
    );
    expect(answerTo({ code: 'IMAGE_COUNT', type: 'liveness', min: 0, max: 8, count: 9 }).message).toBe(
      'a submission takes at most 8 liveness image(s); got 9',
    );
    expect(
      answerTo({ code: 'VALIDATION_FAILED', where: 'body', problem: 'unknown field colour' }).message,
    ).toBe('body: unknown field colour');
  });

  it('picks the status and message of a variant', () => {
    expect(answerTo({ code: 'SMILE_ID_UNAVAILABLE', variant: 'timeout' })).toMatchObject({
      status: 504,
      message: 'Smile ID did not answer in time',
      headers: { 'retry-after': '5' },
    });
    expect(answerTo({ code: 'SMILE_ID_UNAVAILABLE', variant: 'failed' })).toMatchObject({
      status: 502,
      message: 'Smile ID is unavailable',
    });
    expect(statusesOf('SMILE_ID_UNAVAILABLE')).toEqual([502, 504]);
  });

  it('answers a variant the catalog does not know as an internal error, not as the caller’s fault', () => {
    const slipped = { code: 'UNAUTHENTICATED', variant: 'expired' } as unknown as Refusal;
    expect(answerTo(slipped)).toMatchObject({ status: 500, code: 'INTERNAL_ERROR' });
  });

  it('makes a coded error carry its code and message, and no status of its own', () => {
    const error = new CodedError({ code: 'NOT_FOUND', what: 'endpoint' });
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe('NOT_FOUND');
    expect(error.message).toBe('no endpoint with this id');
    expect(error).not.toHaveProperty('statusCode');
  });
});

describe('the catalog', () => {
  it('lists its codes by status, as the docs table shows them', () => {
    const first = codes.map((code) => statusesOf(code)[0]!);
    expect(first).toEqual([...first].sort((a, b) => a - b));
  });

  it('answers 503 only for a store that is away, or the service itself, and always with Retry-After', () => {
    // A caller (Smile ID above all) reads 503 as "unavailable, retry later": a fault, a missing setting or
    // too much load from callers must never be one. Each code allowed here, and why it is "unavailable".
    const UNAVAILABLE: Partial<Record<ErrorCode, string>> = {
      STORAGE_UNAVAILABLE: 'Postgres cannot be reached or answer in time',
      OBJECT_STORE_UNAVAILABLE: 'the object store holding photos cannot be reached or answer in time',
      // Not a store, but the whole service going away: RFC 9110's "temporarily unable to handle", and
      // the retry reaches another process or this one once restarted.
      SHUTTING_DOWN: 'the process is draining its connections before it exits',
    };
    const unavailable = codes.filter((code) => statusesOf(code).includes(503));
    expect(unavailable).toEqual(Object.keys(UNAVAILABLE));
    for (const code of unavailable) {
      expect((ERRORS[code] as { retryAfterSeconds?: number }).retryAfterSeconds, code).toBeGreaterThan(0);
    }
  });

  it('answers a configuration that leaves submissions out 501, and too many waits for changes 429 with Retry-After', () => {
    expect(answerTo({ code: 'SUBMISSIONS_NOT_CONFIGURED' })).toMatchObject({ status: 501, headers: {} });
    expect(answerTo({ code: 'CHANGE_FEED_BUSY' })).toMatchObject({
      status: 429,
      headers: { 'retry-after': '2' },
    });
  });

  it('names only codes in SNAKE_CASE, and each says when it is answered', () => {
    for (const code of codes) {
      expect(code).toMatch(/^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$/);
      expect(ERRORS[code].when.length, code).toBeGreaterThan(0);
    }
  });
});

describe('the source tree', () => {
  const SRC = path.resolve(import.meta.dirname, '..');
  const modules = readdirSync(SRC, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))
    .filter((file) => !/^(generated|simulator)\//.test(file) && file !== 'http/error-catalog.ts')
    .map((file) => ({ file, text: readFileSync(path.join(SRC, file), 'utf8') }));

  it('answers with every code of the catalog somewhere, so none is declared in vain', () => {
    const unused = codes.filter((code) => !modules.some(({ text }) => text.includes(`'${code}'`)));
    expect(unused).toEqual([]);
  });

  it('gives an error answer its status in the catalog alone', () => {
    // The Smile ID simulator answers with Smile ID's statuses and codes, not ours.
    const stating = modules
      .filter(({ text }) =>
        /\.code\(\s*[45]\d\d\b|\bstatus(?:Code)?:\s*[45]\d\d\b|new HttpError\(/.test(text),
      )
      .map(({ file }) => file);
    expect(stating).toEqual([]);
  });
});
