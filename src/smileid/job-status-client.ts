import { z } from 'zod';
import { measureJson } from './json-budget.js';
import { looseString } from './payload.js';
import { computeSignature, verifySignature } from './signature.js';
import {
  callSmileId,
  parseObject,
  retryableStatus,
  type SmileApiFailure,
  type SmileApiOptions,
  UNAUTHORIZED_CODES,
} from './smile-api.js';

/**
 * Smile ID's Job Status API (docs/smile-id.md#job-status-api): `POST {base}/job_status`, signed with a fresh timestamp per call.
 * The response is signed like a callback; one that does not verify is never returned as a status.
 */

export type JobStatusClientOptions = SmileApiOptions;

export type JobStatusAnswer =
  /** A verified response: `body` is the parsed JSON, `raw` the exact bytes. */
  | { kind: 'status'; body: Record<string, unknown>; raw: Buffer; timestamp: string; signature: string }
  /** The response was not signed by any of our keys: never applied. */
  | { kind: 'bad_signature' }
  /** 2205/2405: our partner id or key is wrong. Retrying will not help until an operator acts. */
  | { kind: 'unauthorized'; code: string }
  /** Anything else that went wrong. */
  | SmileApiFailure;

/** What to ask for besides the status: the reconciler wants history; the images route wants links. */
export interface JobStatusRequestOptions {
  /** `image_links`: signed, short-lived URLs to the job's photos. Default false. */
  imageLinks?: boolean;
  /** `history`: every result sent to the callback. Default true. */
  history?: boolean;
}

/**
 * Largest job_status response parsed: a history of a few callbacks, each with an ID photo of ~1.5 MB,
 * fits with room to spare. Larger, or more complex than callback bodies may be (json-budget.ts), it is
 * refused unparsed, so even a compromised or broken endpoint cannot stall the event loop.
 */
export const MAX_JOB_STATUS_RESPONSE_BYTES = 16 * 1024 * 1024;
const SOURCE_SDK_VERSION = '1.0.0';

const responseEnvelope = z.looseObject({ timestamp: z.string().min(1), signature: z.string().min(1) });
const errorBody = z.looseObject({ code: looseString, error: looseString });

export function createJobStatusClient(options: JobStatusClientOptions) {
  const now = options.now ?? (() => new Date());
  const signingKey = options.apiKeys[0]!;

  async function fetchStatus(
    userId: string,
    jobId: string,
    { imageLinks = false, history = true }: JobStatusRequestOptions = {},
  ): Promise<JobStatusAnswer> {
    const timestamp = now().toISOString();
    const request = {
      partner_id: options.partnerId,
      user_id: userId,
      job_id: jobId,
      image_links: imageLinks,
      history,
      timestamp,
      signature: computeSignature(signingKey, options.partnerId, timestamp),
      source_sdk: 'rest_api',
      source_sdk_version: SOURCE_SDK_VERSION,
    };
    const sent = await callSmileId(options, `${options.baseUrl}/job_status`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(request),
    });
    if ('failure' in sent) return sent.failure;
    const { response, raw } = sent;
    const bounded = raw.length <= MAX_JOB_STATUS_RESPONSE_BYTES && measureJson(raw) === undefined;
    const body = bounded ? parseObject(raw) : undefined;
    if (!response.ok) {
      const code = errorBody.safeParse(body).data?.code ?? `http_${response.status}`;
      if (UNAUTHORIZED_CODES.has(code)) return { kind: 'unauthorized', code };
      return {
        kind: 'failed',
        code,
        status: response.status,
        retryable: retryableStatus(response.status),
      };
    }
    // Asking again would bring the same answer: the job is checked again later, not retried now.
    if (!bounded)
      return { kind: 'failed', code: 'response_too_complex', status: response.status, retryable: false };
    if (body === undefined)
      return { kind: 'failed', code: 'invalid_response', status: response.status, retryable: true };
    const envelope = responseEnvelope.safeParse(body);
    if (!envelope.success) return { kind: 'bad_signature' };
    const check = verifySignature(
      envelope.data.signature,
      envelope.data.timestamp,
      options.partnerId,
      options.apiKeys,
    );
    if (!check.valid) return { kind: 'bad_signature' };
    return {
      kind: 'status',
      body,
      raw,
      timestamp: envelope.data.timestamp,
      signature: envelope.data.signature,
    };
  }

  return { fetchStatus };
}

export type JobStatusClient = ReturnType<typeof createJobStatusClient>;
