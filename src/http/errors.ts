import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { type Answer, answerTo, CodedError, type Refusal } from './coded-error.js';
import { isStorageUnavailable } from './storage-unavailable.js';

export function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

/** Fastify's own errors, each given a code of the catalog; anything else a caller can cause is a 400. */
const FASTIFY_ERRORS: Readonly<Record<string, Refusal>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'BODY_TOO_LARGE' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'UNSUPPORTED_MEDIA_TYPE', variant: 'notJson' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'EMPTY_BODY' },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'INVALID_JSON' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'INVALID_CONTENT_LENGTH' },
  FST_ERR_CTP_INVALID_TYPE: { code: 'UNSUPPORTED_MEDIA_TYPE', variant: 'invalid' },
  // Routes outside /v1 keep Fastify's schema error formatter (the /v1 routes' is api/validation.ts).
  FST_ERR_VALIDATION: { code: 'VALIDATION_FAILED', where: 'request', problem: 'invalid' },
  // Router errors; they reach this handler only through Fastify's `frameworkErrors` option.
  FST_ERR_BAD_URL: { code: 'BAD_URL' },
  FST_ERR_MAX_PARAM_LENGTH: { code: 'PATH_TOO_LONG' },
};

declare module 'fastify' {
  interface FastifyRequest {
    /** The error code the request was answered with, for metrics. */
    errorCode?: string;
  }
}

/** One place maps every error to HTTP. Messages are shown only below 500; bodies are never echoed. */
export function handleError(error: FastifyError | CodedError, request: FastifyRequest, reply: FastifyReply) {
  const { status, code, message, headers } = describe(error);
  if (code === 'STORAGE_UNAVAILABLE' || code === 'OBJECT_STORE_UNAVAILABLE') {
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

/**
 * A coded error answers as the catalog says. Anything else is Fastify's or a plugin's refusal of the
 * request, an unreachable store (the only 503 an uncoded error can get), or a fault: 500, whatever status
 * the error claims for itself.
 */
function describe(error: FastifyError | CodedError): Answer {
  if (error instanceof CodedError) return answerTo(error.refusal);
  const known = error.code ? FASTIFY_ERRORS[error.code] : undefined;
  if (known) return answerTo(known);
  const status = error.statusCode ?? 500;
  if (status === 429) return answerTo({ code: 'RATE_LIMITED' });
  // Checked before storage: a client hanging up mid-body is an ECONNRESET too, and Fastify marks it 400.
  // Such a refusal keeps the 4xx status Fastify or the plugin gave it.
  if (status >= 400 && status < 500) return { ...answerTo({ code: 'BAD_REQUEST' }), status };
  // The object store's client names its outages so (store/objects/object-store.ts); checked first, as the
  // socket error behind one would otherwise read as Postgres's.
  if ((error as { code?: unknown }).code === 'OBJECT_STORE_UNAVAILABLE')
    return answerTo({ code: 'OBJECT_STORE_UNAVAILABLE' });
  if (isStorageUnavailable(error)) return answerTo({ code: 'STORAGE_UNAVAILABLE' });
  return answerTo({ code: 'INTERNAL_ERROR' });
}

export function handleNotFound(request: FastifyRequest, reply: FastifyReply) {
  const { status, code, message } = answerTo({
    code: 'ROUTE_NOT_FOUND',
    method: request.method,
    path: request.routeOptions.url ?? 'this path',
  });
  return reply.code(status).send(errorBody(code, message));
}
