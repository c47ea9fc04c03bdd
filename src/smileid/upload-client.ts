import { z } from 'zod';
import { looseString } from './payload.js';
import { computeSignature } from './signature.js';
import {
  callSmileId,
  parseObject,
  retryableStatus,
  type SmileApiFailure,
  type SmileApiOptions,
  UNAUTHORIZED_CODES,
} from './smile-api.js';

/**
 * Smile ID's two submission calls (docs/smile-id.md#submitting-a-job): the signed prep upload, which
 * answers an upload URL, and the `PUT` of the job's zip to it. Each answer says what to do next, so the
 * caller never guesses from a status code.
 */

export type UploadClientOptions = SmileApiOptions;

export interface PrepUploadRequest {
  partnerParams: { job_id: string; user_id: string; job_type: number } & Record<string, string | number>;
  callbackUrl: string;
  /** Sent again for a job id whose earlier upload URL expired. */
  retry: boolean;
}

export type PrepUploadAnswer =
  | {
      kind: 'prepared';
      uploadUrl: string;
      smileJobId: string;
      /** The answer as it came: the zip's `server_information`. */
      serverInformation: Record<string, unknown>;
      /** The signature sent, with its timestamp: the zip's `misc_information` repeats them. */
      signature: string;
      timestamp: string;
    }
  /** 2215: the job id was used before; job_status says what became of it. */
  | { kind: 'job_exists' }
  /** 2205/2405: our partner id or key is wrong; no retry helps until an operator acts. */
  | { kind: 'unauthorized'; code: string }
  | SmileApiFailure;

export type UploadAnswer =
  | { kind: 'uploaded' }
  /** The URL has expired (403): a new prep upload with `retry: true` gets another. */
  | { kind: 'expired' }
  | SmileApiFailure;

/** A prep upload's answer is a few hundred bytes; a larger one is not read as JSON. */
const MAX_ANSWER_BYTES = 64 * 1024;
const JOB_EXISTS_CODE = '2215';

const preparedBody = z.looseObject({
  upload_url: z.url(),
  smile_job_id: looseString.pipe(z.string().min(1)),
});
const errorBody = z.looseObject({ code: looseString });

export function createUploadClient(options: UploadClientOptions) {
  const now = options.now ?? (() => new Date());
  async function prepUpload(request: PrepUploadRequest): Promise<PrepUploadAnswer> {
    const timestamp = now().toISOString();
    const signature = computeSignature(options.apiKeys[0]!, options.partnerId, timestamp);
    const sent = await callSmileId(options, `${options.baseUrl}/upload`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        source_sdk: 'rest_api',
        source_sdk_version: '1.0.0',
        smile_client_id: options.partnerId,
        signature,
        timestamp,
        partner_params: request.partnerParams,
        model_parameters: {},
        callback_url: request.callbackUrl,
        file_name: 'selfie.zip',
        use_enrolled_image: false,
        ...(request.retry ? { retry: true } : {}),
      }),
    });
    if ('failure' in sent) return sent.failure;
    const { response, raw } = sent;
    const body = raw.length <= MAX_ANSWER_BYTES ? parseObject(raw) : undefined;
    if (!response.ok) {
      const code = errorBody.safeParse(body).data?.code ?? `http_${response.status}`;
      if (code === JOB_EXISTS_CODE) return { kind: 'job_exists' };
      if (UNAUTHORIZED_CODES.has(code)) return { kind: 'unauthorized', code };
      return { kind: 'failed', code, status: response.status, retryable: retryableStatus(response.status) };
    }
    const prepared = preparedBody.safeParse(body);
    if (!prepared.success || !body) {
      return { kind: 'failed', code: 'invalid_response', status: response.status, retryable: true };
    }
    return {
      kind: 'prepared',
      uploadUrl: prepared.data.upload_url,
      smileJobId: prepared.data.smile_job_id,
      serverInformation: body,
      signature,
      timestamp,
    };
  }

  async function upload(uploadUrl: string, zip: Buffer): Promise<UploadAnswer> {
    const sent = await callSmileId(options, uploadUrl, {
      method: 'PUT',
      headers: { 'content-type': 'application/zip' },
      body: new Uint8Array(zip),
    });
    if ('failure' in sent) return sent.failure;
    const { status } = sent.response;
    if (sent.response.ok) return { kind: 'uploaded' };
    if (status === 403) return { kind: 'expired' };
    return { kind: 'failed', code: `http_${status}`, status, retryable: retryableStatus(status) };
  }

  return { prepUpload, upload };
}

export type UploadClient = ReturnType<typeof createUploadClient>;
