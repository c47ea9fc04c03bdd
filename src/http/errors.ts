import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isStorageUnavailable } from './storage-unavailable.js';

/** An error with a stable code that the error handler turns into `{"error": {code, message}}`. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

/** Fastify's own errors, each given a code of ours; anything else a caller can cause is a 400. */
const FASTIFY_ERRORS: Readonly<Record<string, { status: number; code: string; message: string }>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'BODY_TOO_LARGE', message: 'request body is too large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: 'content type must be application/json',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'EMPTY_BODY', message: 'request body is empty' },
  FST_ERR_CTP_INVALID_JSON_BODY: {
    status: 400,
    code: 'INVALID_JSON',
    message: 'request body is not valid JSON',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    status: 400,
    code: 'INVALID_CONTENT_LENGTH',
    message: 'content-length does not match the body',
  },
  FST_ERR_CTP_INVALID_TYPE: {
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: 'content type is invalid',
  },
  FST_ERR_VALIDATION: { status: 400, code: 'VALIDATION_FAILED', message: 'request is invalid' },
  // Router errors; they reach this handler only through Fastify's `frameworkErrors` option.
  FST_ERR_BAD_URL: { status: 400, code: 'BAD_URL', message: 'the request path is not valid' },
  FST_ERR_MAX_PARAM_LENGTH: { status: 414, code: 'PATH_TOO_LONG', message: 'a path parameter is too long' },
};

declare module 'fastify' {
  interface FastifyRequest {
    /** The error code the request was answered with, for metrics. */
    errorCode?: string;
  }
}

/** Postgres unreachable or too slow: the caller should come back, not report a bug. */
export const STORAGE_UNAVAILABLE = {
  status: 503,
  code: 'STORAGE_UNAVAILABLE',
  message: 'storage is unavailable; retry later',
  headers: { 'retry-after': '5' },
} as const;

/** One place maps every error to HTTP. Messages are shown only below 500; bodies are never echoed. */
export function handleError(error: FastifyError | HttpError, request: FastifyRequest, reply: FastifyReply) {
  const { status, code, message, headers } = describe(error);
  if (status === STORAGE_UNAVAILABLE.status && code === STORAGE_UNAVAILABLE.code) {
    request.log.warn({ err: loggableError(error) }, message);
  } else if (status >= 500) {
    request.log.error({ err: loggableError(error) }, message);
  }
  request.errorCode = code;
  return reply.code(status).headers(headers).send(errorBody(code, message));
}

/**
 * What a log may say of an error: its class, message and stack. A database error's message can quote
 * the values of the statement (from a request body), and JSON.parse's quotes the text it failed on (an
 * opened record), so those are logged by name, code and stack frames only.
 */
export function loggableError(error: Error & { code?: unknown }) {
  const code = typeof error.code === 'string' ? error.code : undefined;
  const quotesValues =
    (code !== undefined && /^([0-9A-Z]{5}|P\d{4})$/.test(code)) || error instanceof SyntaxError;
  if (!quotesValues) return error;
  const frames = (error.stack ?? '').split('\n').filter((line) => line.trimStart().startsWith('at '));
  return { type: error.name, code, stack: frames.join('\n') };
}

function describe(error: FastifyError | HttpError) {
  if (error instanceof HttpError) {
    return { status: error.statusCode, code: error.code, message: error.message, headers: error.headers };
  }
  const known = error.code ? FASTIFY_ERRORS[error.code] : undefined;
  if (known) return { status: known.status, code: known.code, message: known.message, headers: {} };
  const status = error.statusCode ?? 500;
  if (status === 429) return { status, code: 'RATE_LIMITED', message: 'too many requests', headers: {} };
  // Checked before storage: a client hanging up mid-body is an ECONNRESET too, and Fastify marks it 400.
  if (status >= 400 && status < 500) {
    return { status, code: 'BAD_REQUEST', message: 'request could not be processed', headers: {} };
  }
  if (isStorageUnavailable(error)) return STORAGE_UNAVAILABLE;
  return { status: 500, code: 'INTERNAL_ERROR', message: 'internal error', headers: {} };
}

export function handleNotFound(request: FastifyRequest, reply: FastifyReply) {
  return reply
    .code(404)
    .send(
      errorBody(
        'ROUTE_NOT_FOUND',
        `no route for ${request.method} ${request.routeOptions.url ?? 'this path'}`,
      ),
    );
}
