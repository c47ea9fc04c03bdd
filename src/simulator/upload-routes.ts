import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { simulatedJob } from './callbacks.js';
import { deliverOverTime } from './deliver-over-time.js';
import { lifeCallbacks } from './job-lives.js';
import { beginUpload, type PendingUpload, type SimulatorState } from './state.js';
import { readUploadedPackage } from './upload-package.js';
import { lifeNamedIn, type PrepUpload, readPrepUpload, zipMismatch } from './upload-requests.js';

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

const JOB_EXISTS = { code: '2215', error: 'Job already exists. Did you mean to set the retry flag to true?' };

/**
 * Smile ID's submission side (docs/smile-id.md#submitting-a-job): `POST /v1/upload` (the prep upload,
 * signed like job_status; a job id can be prepared once, or again with `retry: true`) answers an upload
 * URL, to which the zip is PUT. A valid zip starts the job's life — the life named by the simulator-only
 * partner param `sim_life`, else `approved` — and its callbacks go to the prep upload's `callback_url`,
 * unless the partner param `sim_callbacks` is `none`.
 */
export function uploadRoutes(app: FastifyInstance, context: UploadContext): void {
  app.post('/v1/upload', async (request, reply) => {
    const read = readPrepUpload(request.body ?? {}, context);
    if (!read.ok) return reply.code(read.status).send(read.body);
    return prepareUpload(context, read.prep, originOf(request)) ?? reply.code(400).send(JOB_EXISTS);
  });

  app.register(async (uploads) => {
    // The upload URL takes the zip's bytes as they are, like the storage bucket behind Smile ID's.
    uploads.removeAllContentTypeParsers();
    uploads.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    uploads.put<{ Params: { ref: string } }>(
      '/__sim/uploads/:ref',
      { bodyLimit: 64 * 1024 * 1024 },
      async (request, reply) => receiveUpload(context, request.params.ref, request.body, reply),
    );
  });
}

/** The upload URL and Smile ID job id for a prep upload; undefined when its job id is taken. */
function prepareUpload(context: UploadContext, prep: PrepUpload, origin: string) {
  const { state } = context;
  // `retry: true` prepares a job again whose zip never arrived; one whose zip did is running, and its
  // job id stays taken (assumed: Smile ID documents `retry` only for a failed upload).
  if (state.uploadedJobIds.has(prep.jobId) && (!prep.retry || zipReceived(state, prep.jobId))) {
    return undefined;
  }
  state.uploadedJobIds.add(prep.jobId);
  const ref = randomBytes(12).toString('hex');
  const smileJobId = String(Math.floor(context.random() * 9e9) + 1e9);
  state.uploads.set(ref, {
    jobId: prep.jobId,
    userId: prep.userId,
    smileJobId,
    callbackUrl: prep.callbackUrl,
    expiresAt: context.now().getTime() + context.uploadUrlTtlMs,
    puts: 0,
  });
  return {
    upload_url: `${origin}/__sim/uploads/${ref}`,
    ref_id: randomUUID(),
    smile_job_id: smileJobId,
    camera_config: '{}',
    code: '2202',
  };
}

const originOf = (request: FastifyRequest) => `${request.protocol}://${request.headers.host ?? 'localhost'}`;

function zipReceived(state: SimulatorState, jobId: string): boolean {
  return [...state.uploads.values()].some(
    (upload) => upload.jobId === jobId && upload.uploadedAt !== undefined,
  );
}

/** A PUT to an upload URL: known and unexpired, it is read after the bucket's latency, if any. */
async function receiveUpload(context: UploadContext, ref: string, body: unknown, reply: FastifyReply) {
  const { state } = context;
  const upload = state.uploads.get(ref);
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
      await delay(latencyMs, undefined, { signal: context.closing }).catch(() => undefined);
    }
    return await receiveZip(context, upload, body, reply);
  } finally {
    endUpload();
  }
}

/** A valid zip of this upload starts its job's life, the first time only. */
async function receiveZip(context: UploadContext, upload: PendingUpload, body: unknown, reply: FastifyReply) {
  const checked = await readUploadedPackage(Buffer.isBuffer(body) ? body : Buffer.alloc(0));
  if (!checked.ok) return reply.code(400).send({ code: 'ZIP_INVALID', error: checked.reason });
  const mismatch = zipMismatch(upload, checked.package);
  if (mismatch !== undefined) return reply.code(400).send({ code: 'ZIP_INVALID', error: mismatch });
  if (upload.uploadedAt === undefined) startLife(context, upload, checked.package.partnerParams);
  upload.uploadedAt = context.now().getTime();
  return reply.code(200).send();
}

/** Registers the job with its life, and sends the life's callbacks over time. */
function startLife(context: UploadContext, upload: PendingUpload, params: Record<string, unknown>) {
  const life = lifeNamedIn(params);
  const job = {
    ...simulatedJob({ jobId: upload.jobId, userId: upload.userId }),
    smileJobId: upload.smileJobId,
  };
  const registeredAt = context.now().getTime();
  const timing = { reviewDelayMs: 2000 };
  context.state.jobs.set(upload.jobId, { job, life, timing, registeredAt, faults: {} });
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
  }).catch(() => undefined);
}
