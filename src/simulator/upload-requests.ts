import { z } from 'zod';
import { verifySignature } from '../smileid/signature.js';
import { JOB_LIVES, type JobLife } from './job-lives.js';
import type { PendingUpload } from './state.js';
import type { UploadedPackage } from './upload-package.js';

/**
 * What the simulator's submission side (upload-routes.ts) reads from a request, as Smile ID reads it:
 * the prep upload, and whether an uploaded zip belongs to the prep upload it was PUT for.
 */

const prepUploadSchema = z.object({
  smile_client_id: z.string().min(1),
  signature: z.string().min(1),
  timestamp: z.string().min(1),
  partner_params: z.looseObject({
    job_id: z.string().min(1),
    user_id: z.string().min(1),
    job_type: z.coerce.number().int(),
  }),
  callback_url: z.string().min(1),
  retry: z.union([z.boolean(), z.enum(['true', 'false'])]).optional(),
});

/** A prep upload that Smile ID accepts to read: signed by the partner it names. */
export interface PrepUpload {
  jobId: string;
  userId: string;
  callbackUrl: string;
  /** `retry: true`: prepare again a job id whose zip never arrived. */
  retry: boolean;
}

export type SmileRefusal = { status: 400 | 401; body: { code: string; error: string } };

export const UNAUTHORIZED = { code: '2205', error: 'You are not authorized to do that.' };

/** A missing or invalid parameter is 2213, naming the first; a wrong partner or signature 2205. */
export function readPrepUpload(
  input: unknown,
  expected: { partnerId: string; apiKey: string },
): { ok: true; prep: PrepUpload } | ({ ok: false } & SmileRefusal) {
  const parsed = prepUploadSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const error = `Missing or invalid parameter: ${issue.path.join('.')}`;
    return { ok: false, status: 400, body: { code: '2213', error } };
  }
  const prep = parsed.data;
  const signed = verifySignature(prep.signature, prep.timestamp, expected.partnerId, [expected.apiKey]).valid;
  if (prep.smile_client_id !== expected.partnerId || !signed) {
    return { ok: false, status: 401, body: UNAUTHORIZED };
  }
  return {
    ok: true,
    prep: {
      jobId: prep.partner_params.job_id,
      userId: prep.partner_params.user_id,
      callbackUrl: prep.callback_url,
      retry: prep.retry === true || prep.retry === 'true',
    },
  };
}

/** Why a valid zip is not the one its upload URL was prepared for; undefined when it is. */
export function zipMismatch(
  upload: Pick<PendingUpload, 'jobId' | 'userId' | 'smileJobId'>,
  uploaded: Pick<UploadedPackage, 'jobId' | 'userId' | 'smileJobId'>,
): string | undefined {
  if (uploaded.jobId !== upload.jobId || uploaded.userId !== upload.userId) {
    return 'partner_params differ from the prep upload';
  }
  if (uploaded.smileJobId !== upload.smileJobId) return "server_information is not this upload's";
  return undefined;
}

/** The life a zip's job lives: the one its simulator-only partner param `sim_life` names, else approved. */
export function lifeNamedIn(partnerParams: Record<string, unknown>): JobLife {
  const named = partnerParams.sim_life as JobLife;
  return JOB_LIVES.includes(named) ? named : 'approved';
}
