import type { FastifyBaseLogger } from 'fastify';
import type { PollModel } from '../domain/poll-schedule.js';
import { statusShowsZip } from '../domain/submission.js';
import type { Metrics } from '../observability/metrics.js';
import { buildJobPackage, type JobPackage } from '../smileid/job-package.js';
import type { JobStatusClient } from '../smileid/job-status-client.js';
import type { UploadClient } from '../smileid/upload-client.js';
import type { PreparedUpload, SubmissionStore } from '../store/submissions/submission-store.js';
import { prepare } from './prep-upload.js';
import {
  fail,
  failure,
  fetchStatus,
  partnerParamsOf,
  RetryableSubmissionError,
  type Step,
  type SubmitAttempt,
  type SubmitFlow,
  type SubmitOutcome,
  uploaded,
} from './submit-attempt.js';

export { RetryableSubmissionError, type SubmitOutcome } from './submit-attempt.js';

export interface SubmitSettings {
  /** Sent to Smile ID in every submission's prep upload. */
  partnerId: string;
  /** Null when no PUBLIC_CALLBACK_URL is configured: queued submissions wait for one. */
  callbackUrl: string | null;
  /** SUBMISSION_ATTEMPTS: attempts of any kind, crashes included, before a submission fails. */
  maxAttempts: number;
  /** Submissions in flight per worker process (SUBMISSION_CONCURRENCY). */
  concurrency: number;
  batchSize: number;
}

/** Longest an attempt may hold a submission before the sweep queues it again (a worker died holding it). */
export const SUBMISSION_LEASE_MS = 15 * 60_000;

/**
 * The submission flow for one job (docs/smile-id.md#submitting-a-job): prep upload → zip → `PUT`, each
 * step's result stored before the next, so that whatever stops it, the next attempt resumes where it
 * stood: with the upload URL it has (once job_status says Smile ID does not have the zip already), or
 * with a new prep upload (`retry: true`) if that URL expired.
 * Return = done for now; throw RetryableSubmissionError = retry with backoff (BullMQ).
 */
export function createSubmitJob({
  store,
  uploads,
  jobStatus,
  settings: { partnerId, callbackUrl, maxAttempts },
  pollModel,
  log,
  now = () => new Date(),
  metrics,
}: {
  store: SubmissionStore;
  uploads: UploadClient;
  jobStatus: Pick<JobStatusClient, 'fetchStatus'>;
  /** A submission flow exists only with a callback URL (submitJobs waits for one otherwise). */
  settings: Pick<SubmitSettings, 'partnerId' | 'maxAttempts'> & { callbackUrl: string };
  pollModel: PollModel;
  log: FastifyBaseLogger;
  now?: () => Date;
  metrics?: Metrics | undefined;
}) {
  const flow: SubmitFlow = {
    store,
    uploads,
    jobStatus,
    partnerId,
    callbackUrl,
    maxAttempts,
    pollModel,
    now,
    metrics,
  };
  return {
    run: (jobId: string, { log: jobLog = log }: { log?: FastifyBaseLogger } = {}) =>
      runSubmission(flow, jobId, jobLog),
  };
}

/** One attempt's bookkeeping: what may not be attempted, the attempt count, and what a retry leaves. */
async function runSubmission(flow: SubmitFlow, jobId: string, log: FastifyBaseLogger) {
  const { store, now, maxAttempts } = flow;
  const submission = await store.load(jobId);
  if (!submission || submission.status === 'uploaded' || submission.status === 'failed') {
    return 'done_already' as const;
  }
  const attempt: SubmitAttempt = { flow, submission, log };
  if (!submission.content) {
    return fail(attempt, 'ERASED', 'the submission was erased before its upload');
  }
  const count = await store.beginAttempt(jobId, now(), new Date(now().getTime() + SUBMISSION_LEASE_MS));
  if (count === undefined) return 'done_already' as const;
  // Attempts that ended in something other than a retryable answer (a crash, Postgres gone) count too.
  if (count > maxAttempts) {
    return fail(attempt, 'ATTEMPTS_EXHAUSTED', `gave up after ${maxAttempts} attempts`);
  }
  try {
    return await attemptUpload(attempt);
  } catch (error) {
    if (!(error instanceof RetryableSubmissionError)) throw error;
    if (count >= maxAttempts) {
      return fail(attempt, error.code, `gave up after ${count} attempts; the last failed with ${error.code}`);
    }
    await store.recordError(jobId, { code: error.code, message: error.message }, now());
    throw error;
  }
}

async function attemptUpload(attempt: SubmitAttempt): Promise<SubmitOutcome> {
  const { flow, submission, log } = attempt;
  if (submission.prepared && (await smileIdHasZip(attempt)) === true) {
    log.info({ jobId: submission.jobId }, 'job_status shows Smile ID has the zip: not sent again');
    return uploaded(attempt, submission.prepared.smileJobId);
  }
  let step: Step = submission.prepared
    ? { kind: 'prepared', prepared: submission.prepared }
    : await prepare(attempt, submission.retryPrep);
  // One new prep upload at most per attempt: an expired URL is replaced once, then retried later.
  for (let preparations = 0; step.kind === 'prepared'; preparations += 1) {
    const zip = await buildJobPackage(packageOf(attempt, step.prepared));
    // The content in hand was loaded before the calls so far: an erasure since then must win.
    if (!(await flow.store.stillPending(submission.jobId))) return 'done_already';
    const answer = await flow.uploads.upload(step.prepared.uploadUrl, zip);
    switch (answer.kind) {
      case 'uploaded':
        flow.metrics?.submissionCalls.inc({ call: 'upload', result: 'ok' });
        return uploaded(attempt, step.prepared.smileJobId);
      case 'expired':
        flow.metrics?.submissionCalls.inc({ call: 'upload', result: 'expired' });
        await flow.store.prepareAgain(submission.jobId, flow.now());
        if (preparations > 0) throw new RetryableSubmissionError('upload_url_expired');
        step = await prepare(attempt, true);
        break;
      case 'failed':
        return failure(attempt, 'upload', answer);
    }
  }
  return step.outcome;
}

/**
 * Before a resumed attempt sends the zip again to the URL it has: the attempt before it may have sent
 * it, and died (or timed out) before Smile ID's answer arrived. True when job_status shows Smile ID
 * has it; undefined when job_status cannot say now, and the PUT goes ahead as it would have anyway
 * (one more copy of the zip costs less than a submission held up by job_status).
 */
async function smileIdHasZip(attempt: SubmitAttempt): Promise<boolean | undefined> {
  const status = await fetchStatus(attempt);
  return status.kind === 'status' ? statusShowsZip(status.body) : undefined;
}

/** The zip's content: the request's, and the prep upload's answer it must carry back. */
function packageOf({ flow, submission }: SubmitAttempt, prepared: PreparedUpload): JobPackage {
  const content = submission.content!;
  return {
    partnerId: flow.partnerId,
    signature: prepared.signature,
    timestamp: prepared.timestamp,
    partnerParams: partnerParamsOf(submission),
    callbackUrl: flow.callbackUrl,
    retry: prepared.retry,
    idInfo: content.idInfo,
    images: content.images,
    serverInformation: prepared.serverInformation,
  };
}

export type SubmitJob = ReturnType<typeof createSubmitJob>;
