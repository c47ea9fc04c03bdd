import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { verifySignature } from '../smileid/signature.js';
import { simulatedJob } from './callbacks.js';
import { deliverOverTime } from './deliver-over-time.js';
import { JOB_LIVES, type JobLife, lifeCallbacks } from './job-lives.js';
import { beginUpload, type PendingUpload, type SimulatorState } from './state.js';
import { readUploadedPackage } from './upload-package.js';

export interface UploadContext {
  state: SimulatorState;
  partnerId: string;
  apiKey: string;
  now: () => Date;
  random: () => number;
  /** How long an upload URL accepts its zip (Smile ID's are pre-signed and expire). */
  uploadUrlTtlMs: number;
  closing?: AbortSignal;
}

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

const UNAUTHORIZED = { code: '2205', error: 'You are not authorized to do that.' };
const JOB_EXISTS = { code: '2215', error: 'Job already exists. Did you mean to set the retry flag to true?' };

/**
 * Smile ID's submission side (docs/smile-id.md#submitting-a-job): `POST /v1/upload` (the prep upload,
 * signed like job_status; a job id can be prepared once, or again with `retry: true`) answers an upload
 * URL, to which the zip is PUT. A valid zip starts the job's life — the life named by the simulator-only
 * partner param `sim_life`, else `approved` — and its callbacks go to the prep upload's `callback_url`,
 * unless the partner param `sim_callbacks` is `none`.
 */
export function uploadRoutes(app: FastifyInstance, context: UploadContext): void {
  const { state } = context;

  app.post('/v1/upload', async (request, reply) => {
    const parsed = prepUploadSchema.safeParse(request.body ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return reply
        .code(400)
        .send({ code: '2213', error: `Missing or invalid parameter: ${issue.path.join('.')}` });
    }
    const prep = parsed.data;
    const signed = verifySignature(prep.signature, prep.timestamp, context.partnerId, [context.apiKey]).valid;
    if (prep.smile_client_id !== context.partnerId || !signed) return reply.code(401).send(UNAUTHORIZED);
    const { job_id: jobId, user_id: userId } = prep.partner_params;
    const retry = prep.retry === true || prep.retry === 'true';
    // `retry: true` prepares a job again whose zip never arrived; one whose zip did is running, and its
    // job id stays taken (assumed: Smile ID documents `retry` only for a failed upload).
    if (state.uploadedJobIds.has(jobId) && (!retry || zipReceived(jobId))) {
      return reply.code(400).send(JOB_EXISTS);
    }
    state.uploadedJobIds.add(jobId);
    const ref = randomBytes(12).toString('hex');
    const smileJobId = String(Math.floor(context.random() * 9e9) + 1e9);
    state.uploads.set(ref, {
      jobId,
      userId,
      smileJobId,
      callbackUrl: prep.callback_url,
      expiresAt: context.now().getTime() + context.uploadUrlTtlMs,
      puts: 0,
    });
    const origin = `${request.protocol}://${request.headers.host ?? 'localhost'}`;
    return {
      upload_url: `${origin}/__sim/uploads/${ref}`,
      ref_id: randomUUID(),
      smile_job_id: smileJobId,
      camera_config: '{}',
      code: '2202',
    };
  });

  app.register(async (uploads) => {
    // The upload URL takes the zip's bytes as they are, like the storage bucket behind Smile ID's.
    uploads.removeAllContentTypeParsers();
    uploads.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

    uploads.put<{ Params: { ref: string } }>(
      '/__sim/uploads/:ref',
      { bodyLimit: 64 * 1024 * 1024 },
      async (request, reply) => {
        const upload = state.uploads.get(request.params.ref);
        if (!upload) return reply.code(404).send({ error: 'no such upload URL' });
        upload.puts += 1;
        // Like a pre-signed URL, checked when the request arrives, however slow the bucket then is.
        if (context.now().getTime() > upload.expiresAt) {
          return reply.code(403).send({ error: 'Request has expired' });
        }
        const endUpload = beginUpload(state.stats);
        try {
          const latencyMs = state.faults.uploadLatencyMs ?? 0;
          if (latencyMs > 0) {
            // The wait rejects only when the simulator starts closing: the upload is answered at once.
            await delay(latencyMs, undefined, { signal: context.closing }).catch(() => undefined);
          }
          return await receiveZip(upload, request.body, reply);
        } finally {
          endUpload();
        }
      },
    );
  });

  async function receiveZip(upload: PendingUpload, body: unknown, reply: FastifyReply) {
    const checked = await readUploadedPackage(Buffer.isBuffer(body) ? body : Buffer.alloc(0));
    if (!checked.ok) return reply.code(400).send({ code: 'ZIP_INVALID', error: checked.reason });
    const { package: uploaded } = checked;
    if (uploaded.jobId !== upload.jobId || uploaded.userId !== upload.userId) {
      return reply
        .code(400)
        .send({ code: 'ZIP_INVALID', error: 'partner_params differ from the prep upload' });
    }
    if (uploaded.smileJobId !== upload.smileJobId) {
      return reply.code(400).send({ code: 'ZIP_INVALID', error: "server_information is not this upload's" });
    }
    if (upload.uploadedAt === undefined) startLife(upload, uploaded.partnerParams);
    upload.uploadedAt = context.now().getTime();
    return reply.code(200).send();
  }

  function zipReceived(jobId: string): boolean {
    return [...state.uploads.values()].some(
      (upload) => upload.jobId === jobId && upload.uploadedAt !== undefined,
    );
  }

  function startLife(
    upload: { jobId: string; userId: string; smileJobId: string; callbackUrl: string },
    params: Record<string, unknown>,
  ) {
    const life: JobLife = JOB_LIVES.includes(params.sim_life as JobLife)
      ? (params.sim_life as JobLife)
      : 'approved';
    const job = {
      ...simulatedJob({ jobId: upload.jobId, userId: upload.userId }),
      smileJobId: upload.smileJobId,
    };
    const registeredAt = context.now().getTime();
    const timing = { reviewDelayMs: 2000 };
    state.jobs.set(upload.jobId, { job, life, timing, registeredAt, faults: {} });
    // `sim_callbacks: none`: callbacks lost on the way, so that only job_status tells what happened.
    if (!/^https?:\/\//.test(upload.callbackUrl) || params.sim_callbacks === 'none') return;
    void deliverOverTime(lifeCallbacks(life, job, timing), {
      callbackUrl: upload.callbackUrl,
      partnerId: context.partnerId,
      apiKey: context.apiKey,
      random: context.random,
      now: context.now,
      startedAt: registeredAt,
      spreadMs: 200,
      ...(context.closing ? { signal: context.closing } : {}),
    }).catch((error: unknown) => {
      // Each sending reports its own failure; this is one of the simulator's own.
      app.log.error({ err: error, jobId: upload.jobId }, "could not deliver a simulated job's callbacks");
    });
  }
}
