import { JSON_LIMITS } from '../smileid/json-budget.js';

/**
 * A code's answer. `status` and `message` may each be a table by variant, for a code that is answered
 * in more than one way; a message may also be made from the values its refusal carries. `when` is its
 * row in docs/api.md#errors (`npm run docs:errors` writes the table), and in the OpenAPI document.
 */
export interface ErrorDefinition {
  readonly status: number | Readonly<Record<string, number>>;
  readonly message: string | Readonly<Record<string, string>> | ((values: never) => string);
  readonly when: string;
  /** Sent as `Retry-After`: the caller should come back, not report a bug. */
  readonly retryAfterSeconds?: number;
}

const thousands = (value: number) => value.toLocaleString('en-US');

/**
 * Every error code the service answers with, declared once, in the order of the docs' table (by status).
 * Flows and routes name a code (src/http/coded-error.ts); only the error handler turns it into HTTP.
 *
 * 503 means "a store is away, come back later": an unreachable or overloaded Postgres
 * (`STORAGE_UNAVAILABLE`, which only the error handler's classification of a database error gives) or
 * object store, and the service itself going away (`SHUTTING_DOWN`). Too much load from callers is a 429,
 * a function the configuration leaves out a 501. A fault is never a 503: anything not from this catalog
 * answers 500.
 */
export const ERRORS = {
  EMPTY_BODY: {
    status: 400,
    message: 'request body is empty',
    when: 'the callback body, or a JSON body on a `/v1` route, is empty',
  },
  INVALID_JSON: {
    status: 400,
    message: 'request body is not valid JSON',
    when: 'the callback body, or a JSON body on a `/v1` route, is not valid JSON',
  },
  NOT_AN_OBJECT: {
    status: 400,
    message: 'request body must be a JSON object',
    when: 'the callback body is JSON but not an object',
  },
  JSON_TOO_DEEP: {
    status: 400,
    message: ({ max }: { max: number }) => `body nests deeper than ${max} levels`,
    when: `the callback body nests deeper than ${JSON_LIMITS.depth} levels`,
  },
  JSON_TOO_COMPLEX: {
    status: 400,
    message: ({ max, counted }: { max: number; counted: string }) => `body holds more than ${max} ${counted}`,
    when:
      `the callback body holds more than ${thousands(JSON_LIMITS.containers)} objects and arrays, ` +
      `${thousands(JSON_LIMITS.keys)} keys or ${thousands(JSON_LIMITS.values)} values`,
  },
  FORBIDDEN_JSON_KEY: {
    status: 400,
    message: 'body must not contain __proto__ or constructor.prototype keys',
    when: 'the callback body contains `__proto__` or `constructor.prototype` keys',
  },
  INVALID_CONTENT_LENGTH: {
    status: 400,
    message: 'content-length does not match the body',
    when:
      '`Content-Length` is not a number, is given twice with different values, or does not match the body ' +
      '(the connection is then closed)',
  },
  MALFORMED_REQUEST: {
    status: 400,
    message: 'the request is not valid HTTP/1.1',
    when: 'bytes that HTTP/1.1 cannot parse (the connection is then closed)',
  },
  BAD_URL: {
    status: 400,
    message: 'the request path is not valid',
    when: 'the path cannot be decoded (a malformed percent-encoding)',
  },
  VALIDATION_FAILED: {
    status: 400,
    message: ({ where, problem }: { where: string; problem: string }) => `${where}: ${problem}`,
    when:
      'a path parameter, query parameter or body is invalid or unknown; the message names which and why, ' +
      'never the value',
  },
  INVALID_CURSOR: {
    status: 400,
    message: ({ where, problem }: { where: string; problem: string }) => `${where}: ${problem}`,
    when:
      '`cursor` (`after` on `GET /v1/changes`) is not a cursor this API issued for that listing: made up, ' +
      'altered, issued by another listing, or signed under a key no longer in `DATA_ENCRYPTION_KEYS` ' +
      '([cursors](#cursors))',
  },
  IMAGE_COUNT: {
    status: 400,
    message: ({ type, min, max, count }: { type: string; min: number; max: number; count: number }) =>
      `a submission takes ${min === max ? `exactly ${min}` : `at most ${max}`} ${type} image(s); got ${count}`,
    when:
      'submissions: not exactly one selfie, over 8 liveness images or two ID card sides (more than 11 ' +
      'images in all are refused before they are read, as `VALIDATION_FAILED`)',
  },
  IMAGE_NOT_JPEG: {
    status: 400,
    message: ({ index, reason }: { index: number; reason: string }) =>
      `images[${index}] is not a JPEG: ${reason}`,
    when:
      'submissions: an image that is not a JPEG by its structure (markers, a frame header with dimensions, ' +
      'a scan, the end marker last)',
  },
  IMAGE_TOO_LARGE: {
    status: 400,
    message: ({ index, bytes, limit }: { index: number; bytes: number; limit: number }) =>
      `images[${index}] is ${bytes} bytes; the limit is ${limit}`,
    when: 'submissions: an image over `SUBMISSION_MAX_IMAGE_BYTES`',
  },
  BAD_REQUEST: {
    status: 400,
    message: 'request could not be processed',
    when: 'any other request the service cannot process',
  },
  SIGNATURE_MISSING: {
    status: 401,
    message: 'body must carry string `signature` and `timestamp` fields',
    when: 'the callback has no `signature` or no `timestamp` field (a legacy `sec_key` body included)',
  },
  SIGNATURE_MALFORMED: {
    status: 401,
    message: {
      fields: 'body must carry string `signature` and `timestamp` fields',
      signature: 'signature does not verify',
    },
    when: '`signature` is not a 44-character base64 HMAC, or a field is not a string',
  },
  SIGNATURE_INVALID: {
    status: 401,
    message: 'signature does not verify',
    when: 'the signature does not verify with any key in `SMILE_API_KEYS`',
  },
  UNAUTHENTICATED: {
    status: 401,
    message: { missing: 'a bearer token is required', unknown: 'the bearer token is not valid' },
    when: 'a bearer route without a token, or with an unknown one',
  },
  SOURCE_NOT_ALLOWED: {
    status: 403,
    message: 'source address is not allowed',
    when: "the callback's source address is outside `CALLBACK_ALLOWED_CIDRS` (checked before the body is read)",
  },
  ADMIN_FORBIDDEN: {
    status: 403,
    message: 'this token may not administer webhooks',
    when: 'a route under `/v1/notifications/` with a token that is not in `INTERNAL_ADMIN_TOKENS`',
  },
  PII_FORBIDDEN: {
    status: 403,
    message: {
      token: 'this token may not read identity data',
      notInReview: 'a review token may read identity data only of a job in review',
    },
    when:
      '`?include=idInfo`, `?include=body` or image links with a token that is not in `INTERNAL_PII_TOKENS`; ' +
      'for a token in `INTERNAL_REVIEW_TOKENS`, `?include=idInfo` or image links of a job whose decision is ' +
      'not `review`, and `?include=body` always',
  },
  REVIEW_FORBIDDEN: {
    status: 403,
    message: 'this token may not settle reviews',
    when: '`POST /v1/jobs/:jobId/review` with a token that is not in `INTERNAL_REVIEW_TOKENS`',
  },
  JOB_NOT_FOUND: {
    status: 404,
    message: 'no job with this id',
    when: 'no job with this id',
  },
  USER_NOT_FOUND: {
    status: 404,
    message: 'no job names this user',
    when: '`GET /v1/users/:userId`: no job of the service names this user',
  },
  ROUTE_NOT_FOUND: {
    status: 404,
    message: ({ method, path }: { method: string; path: string }) => `no route for ${method} ${path}`,
    when: 'no such route',
  },
  NOT_FOUND: {
    status: 404,
    message: ({ what }: { what: 'dead letter' | 'endpoint' }) => `no ${what} with this id`,
    when: 'notifications: no dead letter or webhook endpoint with this id',
  },
  REQUEST_TIMEOUT: {
    status: 408,
    message: 'the request was not received in time',
    when: 'the request was not fully received within 60 s',
  },
  JOB_CONFLICT: {
    status: 409,
    message: 'this job id is already known for another user',
    when: '`POST /v1/jobs`: the job id is already known for another user',
  },
  NO_USER_ID: {
    status: 409,
    message: 'the job has no user id yet; Smile ID cannot be asked about it',
    when: 'image links were asked for a job whose user is not known, so job_status cannot be asked',
  },
  NOT_IN_REVIEW: {
    status: 409,
    message: 'the job is not in review: its decision is not `review`',
    when:
      '`POST /v1/jobs/:jobId/review` for a job whose decision is not `review` (still pending, decided by ' +
      'the policy, or settled by a person already)',
  },
  SUBMISSION_CONFLICT: {
    status: 409,
    message: 'this job id was submitted with other content',
    when: 'submissions: the `jobId` was submitted with other content',
  },
  JOB_ID_IN_USE: {
    status: 409,
    message: 'this job id belongs to a job not submitted through this service',
    when: 'submissions: the `jobId` belongs to a job not submitted through the service',
  },
  ENDPOINT_CONFIGURED: {
    status: 409,
    message:
      'the endpoint is in NOTIFY_WEBHOOK_URLS, or was within 15 minutes: take it out of every worker first',
    when:
      'notifications: the endpoint to remove is not retired (a worker listed it in `NOTIFY_WEBHOOK_URLS` ' +
      'within 15 minutes)',
  },
  ENDPOINT_RETIRED: {
    status: 409,
    message: 'the endpoint is no longer in NOTIFY_WEBHOOK_URLS: configure it again, or remove it',
    when: 'notifications: `enable` or `redeliver` for a retired endpoint, to which nothing is sent',
  },
  BODY_TOO_LARGE: {
    status: 413,
    message: 'request body is too large',
    when:
      'the body exceeds its route’s limit: `CALLBACK_MAX_BYTES` for callbacks, `SUBMISSION_MAX_BYTES` ' +
      'for submissions',
  },
  PATH_TOO_LONG: {
    status: 414,
    message: 'a path parameter is too long',
    when: 'a path parameter is longer than any id can be',
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    message: { notJson: 'content type must be application/json', invalid: 'content type is invalid' },
    when:
      'a body whose `Content-Type` is not JSON (callbacks: `application/json` or `application/*+json`), ' +
      'or a body without one',
  },
  RATE_LIMITED: {
    status: 429,
    message: 'too many requests',
    when: "more requests per minute from one client address than the route's limit",
  },
  CHANGE_FEED_BUSY: {
    // Too many requests of one kind at once: the caller's load, refused like a rate limit, not a store
    // that is away. Another process of the API (or the same request without `wait`) is answered.
    status: 429,
    message: 'too many requests wait for changes; retry later, or without wait',
    // Places free up as waits are answered, and a change answers many at once.
    retryAfterSeconds: 2,
    when:
      '`GET /v1/changes?wait=` while `CHANGE_FEED_MAX_WAITERS` requests already wait in that API process ' +
      '(a request without `wait` is still answered)',
  },
  HEADERS_TOO_LARGE: {
    status: 431,
    message: 'request headers are too large',
    when: "the request line and headers exceed Node's 16 KiB limit",
  },
  INTERNAL_ERROR: {
    status: 500,
    message: 'internal error',
    when: 'an unexpected failure (logged; the message is generic)',
  },
  CALLBACK_NOT_STORED: {
    status: 500,
    message: 'the callback could not be stored',
    when:
      'a signed callback could not be stored for a fault a retry cannot mend (e.g. a stored value sealed ' +
      'under a key id no longer in `DATA_ENCRYPTION_KEYS`); sent without `Retry-After`, logged with the ' +
      "error's class and message, counted and alerted on " +
      '([operations](operations.md#smileidcallbacksnotstored))',
  },
  SUBMISSIONS_NOT_CONFIGURED: {
    // The service as configured does not offer submissions: no retry mends that, only an operator.
    status: 501,
    message: 'submissions need PUBLIC_CALLBACK_URL, the address where Smile ID reaches this service',
    when: 'submissions in production without `PUBLIC_CALLBACK_URL`',
  },
  SMILE_ID_BAD_SIGNATURE: {
    status: 502,
    message: 'Smile ID’s answer did not verify',
    when: "image links: Smile ID's answer did not verify",
  },
  SMILE_ID_UNAUTHORIZED: {
    status: 502,
    message: ({ smileCode }: { smileCode: string }) => `Smile ID refused our credentials (${smileCode})`,
    when: 'image links: Smile ID refused our credentials (2205, 2405)',
  },
  SMILE_ID_ERROR: {
    status: 502,
    message: ({ smileCode }: { smileCode: string }) => `Smile ID could not answer (${smileCode})`,
    when: 'image links: Smile ID answered with another error',
  },
  SMILE_ID_UNAVAILABLE: {
    status: { failed: 502, timeout: 504 },
    message: { failed: 'Smile ID is unavailable', timeout: 'Smile ID did not answer in time' },
    retryAfterSeconds: 5,
    when: 'image links: Smile ID failed (502) or timed out (504)',
  },
  STORAGE_UNAVAILABLE: {
    status: 503,
    message: 'storage is unavailable; retry later',
    retryAfterSeconds: 5,
    when:
      'Postgres is unreachable or did not answer within `DATABASE_TIMEOUT_MS`, on any route, and Smile ID ' +
      '(or the caller) should retry',
  },
  OBJECT_STORE_UNAVAILABLE: {
    status: 503,
    message: 'the object store holding photos is unavailable; retry later',
    retryAfterSeconds: 5,
    when:
      'stored bodies were asked for (`?include=body`), or photos were to be erased, while the object store ' +
      'did not answer within `OBJECT_STORE_TIMEOUT_MS`; an erasure has then erased everything in Postgres, ' +
      'and a repeat removes the photos',
  },
  SHUTTING_DOWN: {
    status: 503,
    message: 'the service is shutting down; retry',
    retryAfterSeconds: 1,
    when: 'the request arrived on an open connection while the service shuts down',
  },
} as const satisfies Readonly<Record<string, ErrorDefinition>>;

export type ErrorCode = keyof typeof ERRORS;
