import type { FastifyBaseLogger } from 'fastify';
import { emptyOutcome } from '../domain/outcome.js';
import { nextCheck, type PollModel } from '../domain/poll-schedule.js';
import { type Metrics, recordSubmissionUploaded } from '../observability/metrics.js';
import type { JobStatusClient } from '../smileid/job-status-client.js';
import type { SmileApiFailure } from '../smileid/smile-api.js';
import type { UploadClient } from '../smileid/upload-client.js';
import type {
  PreparedUpload,
  StoredSubmission,
  SubmissionStore,
} from '../store/submissions/submission-store.js';

export type SubmitOutcome = 'uploaded' | 'failed' | 'retry' | 'done_already';

/** Thrown for failures worth retrying (5xx, 429, timeouts, network errors). */
export class RetryableSubmissionError extends Error {
  constructor(readonly code: string) {
    super(`the submission failed with ${code}; will retry`);
    this.name = 'RetryableSubmissionError';
  }
}

/** What every submission's attempt works with: the flow's dependencies and settings. */
export interface SubmitFlow {
  store: SubmissionStore;
  uploads: UploadClient;
  jobStatus: Pick<JobStatusClient, 'fetchStatus'>;
  partnerId: string;
  callbackUrl: string;
  maxAttempts: number;
  pollModel: PollModel;
  now: () => Date;
  metrics: Metrics | undefined;
}

/** One attempt at one submission: the flow, the submission as loaded, and the job's own logger. */
export interface SubmitAttempt {
  flow: SubmitFlow;
  submission: StoredSubmission;
  log: FastifyBaseLogger;
}

/** Where a step leaves the attempt: an upload URL to send the zip to, or an outcome. */
export type Step = { kind: 'prepared'; prepared: PreparedUpload } | { kind: 'done'; outcome: SubmitOutcome };

export function fetchStatus({ flow, submission }: SubmitAttempt) {
  return flow.jobStatus.fetchStatus(submission.content!.userId, submission.jobId, { history: false });
}

export function partnerParamsOf(submission: StoredSubmission) {
  const content = submission.content!;
  return {
    ...content.partnerParams,
    job_id: submission.jobId,
    user_id: content.userId,
    job_type: content.jobType,
  };
}

export async function uploaded(
  { flow, submission, log }: SubmitAttempt,
  smileJobId: string | null,
): Promise<SubmitOutcome> {
  const at = flow.now();
  const first = nextCheck({ ...emptyOutcome(submission.jobId), tracked: true }, at, at, flow.pollModel);
  const acceptedAt = await flow.store.markUploaded(submission.jobId, {
    smileJobId,
    at,
    nextCheckAt: 'at' in first ? first.at : at,
  });
  if (acceptedAt) {
    recordSubmissionUploaded(flow.metrics, acceptedAt, at);
    log.info({ jobId: submission.jobId }, 'submission uploaded to Smile ID');
  }
  return 'uploaded';
}

/** A failed call: retried with backoff when it may pass later, otherwise the submission fails. */
export async function failure(
  attempt: SubmitAttempt,
  call: 'prep_upload' | 'upload',
  answer: SmileApiFailure,
): Promise<SubmitOutcome> {
  attempt.flow.metrics?.submissionCalls.inc({ call, result: answer.retryable ? 'retryable' : 'refused' });
  if (answer.retryable) throw new RetryableSubmissionError(answer.code);
  const status = answer.status === null ? '' : ` (HTTP ${answer.status})`;
  return fail(attempt, answer.code, `Smile ID refused the ${call.replace('_', ' ')}${status}`);
}

export async function fail(
  { flow, submission, log }: SubmitAttempt,
  code: string,
  message: string,
): Promise<SubmitOutcome> {
  if (await flow.store.markFailed(submission.jobId, { code, message }, flow.now())) {
    flow.metrics?.submissions.inc({ event: 'failed' });
    log.error({ jobId: submission.jobId, code }, `submission failed: ${message}`);
  }
  return 'failed';
}
