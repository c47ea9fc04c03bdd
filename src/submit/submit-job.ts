import type { FastifyBaseLogger } from 'fastify';
import { emptyOutcome } from '../domain/outcome.js';
import { nextCheck, type PollModel } from '../domain/poll-schedule.js';
import { statusShowsZip } from '../domain/submission.js';
import { type Metrics, recordSubmissionUploaded } from '../observability/metrics.js';
import { buildJobPackage, type JobPackage } from '../smileid/job-package.js';
import type { JobStatusClient } from '../smileid/job-status-client.js';
import type { SmileApiFailure } from '../smileid/smile-api.js';
import type { PrepUploadAnswer, UploadClient } from '../smileid/upload-client.js';
import type {
  PreparedUpload,
  StoredSubmission,
  SubmissionStore,
} from '../store/submissions/submission-store.js';

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

/**
 * The submission flow for one job (docs/smile-id.md#submitting-a-job): prep upload → zip → `PUT`, each
 * step's result stored before the next, so that whatever stops it, the next attempt resumes where it
 * stood: with the upload URL it has (once job_status says Smile ID does not have the zip already), or
 * with a new prep upload (`retry: true`) if that URL expired.
 * Return = done for now; throw RetryableSubmissionError = retry with backoff (BullMQ).
 */

export type SubmitOutcome = 'uploaded' | 'failed' | 'retry' | 'done_already';

/** Thrown for failures worth retrying (5xx, 429, timeouts, network errors). */
export class RetryableSubmissionError extends Error {
  constructor(readonly code: string) {
    super(`the submission failed with ${code}; will retry`);
    this.name = 'RetryableSubmissionError';
  }
}

/** Longest an attempt may hold a submission before the sweep queues it again (a worker died holding it). */
export const SUBMISSION_LEASE_MS = 15 * 60_000;

type Step = { kind: 'prepared'; prepared: PreparedUpload } | { kind: 'done'; outcome: SubmitOutcome };

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
  async function run(jobId: string, { log: jobLog = log }: { log?: FastifyBaseLogger } = {}) {
    const submission = await store.load(jobId);
    if (!submission || submission.status === 'uploaded' || submission.status === 'failed') {
      return 'done_already' as const;
    }
    if (!submission.content) {
      return fail(submission, 'ERASED', 'the submission was erased before its upload', jobLog);
    }
    const attempt = await store.beginAttempt(jobId, now(), new Date(now().getTime() + SUBMISSION_LEASE_MS));
    if (attempt === undefined) return 'done_already' as const;
    // Attempts that ended in something other than a retryable answer (a crash, Postgres gone) count too.
    if (attempt > maxAttempts) {
      return fail(submission, 'ATTEMPTS_EXHAUSTED', `gave up after ${maxAttempts} attempts`, jobLog);
    }
    try {
      return await attemptUpload(submission, jobLog);
    } catch (error) {
      if (!(error instanceof RetryableSubmissionError)) throw error;
      if (attempt >= maxAttempts) {
        return fail(
          submission,
          error.code,
          `gave up after ${attempt} attempts; the last failed with ${error.code}`,
          jobLog,
        );
      }
      await store.recordError(jobId, { code: error.code, message: error.message }, now());
      throw error;
    }
  }

  async function attemptUpload(
    submission: StoredSubmission,
    jobLog: FastifyBaseLogger,
  ): Promise<SubmitOutcome> {
    if (submission.prepared && (await smileIdHasZip(submission)) === true) {
      jobLog.info({ jobId: submission.jobId }, 'job_status shows Smile ID has the zip: not sent again');
      return uploaded(submission, submission.prepared.smileJobId, jobLog);
    }
    let step: Step = submission.prepared
      ? { kind: 'prepared', prepared: submission.prepared }
      : await prepare(submission, submission.retryPrep, jobLog);
    // One new prep upload at most per attempt: an expired URL is replaced once, then retried later.
    for (let preparations = 0; step.kind === 'prepared'; preparations += 1) {
      const zip = await buildJobPackage(packageOf(submission, step.prepared));
      // The content in hand was loaded before the calls so far: an erasure since then must win.
      if (!(await store.stillPending(submission.jobId))) return 'done_already';
      const answer = await uploads.upload(step.prepared.uploadUrl, zip);
      switch (answer.kind) {
        case 'uploaded':
          metrics?.submissionCalls.inc({ call: 'upload', result: 'ok' });
          return uploaded(submission, step.prepared.smileJobId, jobLog);
        case 'expired':
          metrics?.submissionCalls.inc({ call: 'upload', result: 'expired' });
          await store.prepareAgain(submission.jobId, now());
          if (preparations > 0) throw new RetryableSubmissionError('upload_url_expired');
          step = await prepare(submission, true, jobLog);
          break;
        case 'failed':
          return failure(submission, 'upload', answer, jobLog);
      }
    }
    return step.outcome;
  }

  /** The prep upload; its answer is stored before anything is sent to the URL it gives. */
  async function prepare(
    submission: StoredSubmission,
    retry: boolean,
    jobLog: FastifyBaseLogger,
  ): Promise<Step> {
    const answer = await uploads.prepUpload({
      partnerParams: partnerParamsOf(submission),
      callbackUrl,
      retry,
    });
    return handlePrepared(submission, answer, retry, jobLog);
  }

  async function handlePrepared(
    submission: StoredSubmission,
    answer: PrepUploadAnswer,
    retried: boolean,
    jobLog: FastifyBaseLogger,
  ): Promise<Step> {
    const { jobId } = submission;
    switch (answer.kind) {
      case 'prepared': {
        metrics?.submissionCalls.inc({ call: 'prep_upload', result: 'ok' });
        const prepared: PreparedUpload = {
          uploadUrl: answer.uploadUrl,
          smileJobId: answer.smileJobId,
          serverInformation: answer.serverInformation,
          signature: answer.signature,
          timestamp: answer.timestamp,
          retry: retried,
        };
        await store.savePrepared(jobId, prepared, now());
        return { kind: 'prepared', prepared };
      }
      case 'job_exists':
        metrics?.submissionCalls.inc({ call: 'prep_upload', result: 'job_exists' });
        return resolveJobExists(submission, retried, jobLog);
      case 'unauthorized':
        metrics?.submissionCalls.inc({ call: 'prep_upload', result: 'unauthorized' });
        jobLog.error(
          { jobId, code: answer.code },
          'Smile ID refused our prep upload signature: check SMILE_PARTNER_ID and SMILE_API_KEYS',
        );
        return {
          kind: 'done',
          outcome: await fail(
            submission,
            answer.code,
            'Smile ID refused the signature: the partner id or API key is wrong',
            jobLog,
          ),
        };
      case 'failed':
        return { kind: 'done', outcome: await failure(submission, 'prep_upload', answer, jobLog) };
    }
  }

  /**
   * 2215: Smile ID already has this job id. Job Status says whether it has the zip too — our own upload
   * whose answer was lost, even when the 2215 answered a `retry: true` sent after its URL expired — or
   * only an earlier prep upload, which a prep upload with `retry: true` replaces. A 2215 to `retry: true`
   * for a job without its zip is not ours to resolve.
   */
  async function resolveJobExists(
    submission: StoredSubmission,
    retried: boolean,
    jobLog: FastifyBaseLogger,
  ): Promise<Step> {
    const { jobId } = submission;
    const status = await fetchStatus(submission);
    if (status.kind === 'failed' && status.retryable) throw new RetryableSubmissionError(status.code);
    if (status.kind !== 'status') {
      return {
        kind: 'done',
        outcome: await fail(
          submission,
          '2215',
          `Smile ID already has this job id; job_status said ${status.kind}`,
          jobLog,
        ),
      };
    }
    if (statusShowsZip(status.body)) {
      return { kind: 'done', outcome: await uploaded(submission, null, jobLog) };
    }
    if (retried) {
      return {
        kind: 'done',
        outcome: await fail(
          submission,
          '2215',
          'Smile ID already has this job id, even with retry: true',
          jobLog,
        ),
      };
    }
    await store.prepareAgain(jobId, now());
    return prepare(submission, true, jobLog);
  }

  /**
   * Before a resumed attempt sends the zip again to the URL it has: the attempt before it may have sent
   * it, and died (or timed out) before Smile ID's answer arrived. True when job_status shows Smile ID
   * has it; undefined when job_status cannot say now, and the PUT goes ahead as it would have anyway
   * (one more copy of the zip costs less than a submission held up by job_status).
   */
  async function smileIdHasZip(submission: StoredSubmission): Promise<boolean | undefined> {
    const status = await fetchStatus(submission);
    return status.kind === 'status' ? statusShowsZip(status.body) : undefined;
  }

  function fetchStatus(submission: StoredSubmission) {
    return jobStatus.fetchStatus(submission.content!.userId, submission.jobId, { history: false });
  }

  async function uploaded(
    submission: StoredSubmission,
    smileJobId: string | null,
    jobLog: FastifyBaseLogger,
  ): Promise<SubmitOutcome> {
    const at = now();
    const first = nextCheck({ ...emptyOutcome(submission.jobId), tracked: true }, at, at, pollModel);
    const acceptedAt = await store.markUploaded(submission.jobId, {
      smileJobId,
      at,
      nextCheckAt: 'at' in first ? first.at : at,
    });
    if (acceptedAt) {
      recordSubmissionUploaded(metrics, acceptedAt, at);
      jobLog.info({ jobId: submission.jobId }, 'submission uploaded to Smile ID');
    }
    return 'uploaded';
  }

  /** A failed call: retried with backoff when it may pass later, otherwise the submission fails. */
  async function failure(
    submission: StoredSubmission,
    call: 'prep_upload' | 'upload',
    answer: SmileApiFailure,
    jobLog: FastifyBaseLogger,
  ): Promise<SubmitOutcome> {
    metrics?.submissionCalls.inc({ call, result: answer.retryable ? 'retryable' : 'refused' });
    if (answer.retryable) throw new RetryableSubmissionError(answer.code);
    const status = answer.status === null ? '' : ` (HTTP ${answer.status})`;
    return fail(submission, answer.code, `Smile ID refused the ${call.replace('_', ' ')}${status}`, jobLog);
  }

  async function fail(
    submission: StoredSubmission,
    code: string,
    message: string,
    jobLog: FastifyBaseLogger,
  ): Promise<SubmitOutcome> {
    if (await store.markFailed(submission.jobId, { code, message }, now())) {
      metrics?.submissions.inc({ event: 'failed' });
      jobLog.error({ jobId: submission.jobId, code }, `submission failed: ${message}`);
    }
    return 'failed';
  }

  /** The zip's content: the request's, and the prep upload's answer it must carry back. */
  function packageOf(submission: StoredSubmission, prepared: PreparedUpload): JobPackage {
    const content = submission.content!;
    return {
      partnerId,
      signature: prepared.signature,
      timestamp: prepared.timestamp,
      partnerParams: partnerParamsOf(submission),
      callbackUrl,
      retry: prepared.retry,
      idInfo: content.idInfo,
      images: content.images,
      serverInformation: prepared.serverInformation,
    };
  }

  return { run };
}

function partnerParamsOf(submission: StoredSubmission) {
  const content = submission.content!;
  return {
    ...content.partnerParams,
    job_id: submission.jobId,
    user_id: content.userId,
    job_type: content.jobType,
  };
}

export type SubmitJob = ReturnType<typeof createSubmitJob>;
