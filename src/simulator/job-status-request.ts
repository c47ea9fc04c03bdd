import { verifySignature } from '../smileid/signature.js';
import { isRecord } from '../util/is-record.js';

/** A job_status request as Smile ID reads it (docs/smile-id.md#job-status-api). */
export interface JobStatusRequest {
  partnerId: string;
  userId: string;
  jobId: string;
  history: boolean;
  imageLinks: boolean;
}

export type SmileError = { status: 400 | 401; code: '2204' | '2205' | '2213'; error: string };

// A missing signature is an authorization failure (2205), not a missing parameter.
const REQUIRED = ['partner_id', 'user_id', 'job_id', 'timestamp'] as const;
const UNAUTHORIZED = {
  ok: false,
  status: 401,
  code: '2205',
  error: 'You are not authorized to do that.',
} as const;

/**
 * Checks a request the way Smile ID answers it: a missing parameter is 2213, a wrong type 2204, a
 * partner or signature that is missing or does not match 2205. `source_sdk` is not required: the official Node
 * SDK's get_job_status does not send it.
 */
export function readJobStatusRequest(
  input: unknown,
  expected: { partnerId: string; apiKey: string },
): { ok: true; request: JobStatusRequest } | ({ ok: false } & SmileError) {
  const body = isRecord(input) ? input : {};
  const missing = REQUIRED.filter((key) => body[key] === undefined || body[key] === null || body[key] === '');
  if (missing.length > 0) {
    return { ok: false, status: 400, code: '2213', error: `Missing parameter: ${missing.join(', ')}` };
  }
  const { partner_id, timestamp, signature, history, image_links } = body;
  if (signature === undefined || signature === null || signature === '') return UNAUTHORIZED;
  const userId = idOf(body.user_id);
  const jobId = idOf(body.job_id);
  const wrongType =
    typeof partner_id !== 'string' ||
    typeof timestamp !== 'string' ||
    typeof signature !== 'string' ||
    userId === undefined ||
    jobId === undefined ||
    !isOptionalBoolean(history) ||
    !isOptionalBoolean(image_links);
  if (wrongType) return { ok: false, status: 400, code: '2204', error: 'Wrong data type in request' };
  if (partner_id !== expected.partnerId) return UNAUTHORIZED;
  // The same HMAC as callbacks, over the request's own timestamp string and the partner id.
  if (!verifySignature(signature, timestamp, partner_id, [expected.apiKey]).valid) return UNAUTHORIZED;
  return {
    ok: true,
    request: {
      partnerId: partner_id,
      userId,
      jobId,
      history: history === true,
      imageLinks: image_links === true,
    },
  };
}

/** The job id a request names, for stats and per-job faults, before the request is validated. */
export function jobIdOf(body: unknown): string | undefined {
  return isRecord(body) ? idOf(body.job_id) : undefined;
}

/** The official SDK types user_id and job_id as `string | number`. */
function idOf(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return value;
  return typeof value === 'number' && Number.isFinite(value) ? String(value) : undefined;
}

function isOptionalBoolean(value: unknown): boolean {
  return value === undefined || value === null || typeof value === 'boolean';
}
