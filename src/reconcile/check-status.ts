import type { FastifyBaseLogger } from 'fastify';
import type { PollModel } from '../domain/poll-schedule.js';
import { type Metrics, recordSubmissionUploaded, recordTransition } from '../observability/metrics.js';
import type { JobStatusAnswer, JobStatusClient } from '../smileid/job-status-client.js';
import type { StatusStore } from '../store/evidence/status-store.js';
import type { StoredJob } from '../store/jobs/job-table.js';
import { type AppliedStatus, applyStatus, type VerifiedStatus } from './apply-status.js';
import type { CheckFlow, JobCheck } from './check-flow.js';
import { pastHorizon, postpone, retriesSpent } from './postpone-check.js';

export type { AppliedStatus, VerifiedStatus } from './apply-status.js';

export type CheckOutcome =
  | 'applied'
  | 'stale'
  | 'unknown_job'
  | 'no_user_id'
  | 'settled'
  | 'already_checked'
  | 'bad_signature'
  | 'unauthorized'
  | 'rejected_request'
  | 'retries_spent';

/** Thrown for failures worth retrying soon (5xx, timeouts): BullMQ retries with backoff. */
export class RetryableCheckError extends Error {
  constructor(readonly code: string) {
    super(`job_status failed with ${code}; will retry`);
    this.name = 'RetryableCheckError';
  }
}

const BAD_SIGNATURE_RETRY_MS = 60_000;
const UNAUTHORIZED_RETRY_MS = 15 * 60_000;
const REJECTED_REQUEST_RETRY_MS = 15 * 60_000;
const NO_USER_RETRY_MS = 60 * 60_000;

/** Options of one check: what the queued job knows of it. */
interface CheckOptions {
  /** The one check an untrusted body bought; none is spent on a job job_status has settled. */
  untrusted?: boolean;
  log?: FastifyBaseLogger;
  queuedAt?: number | undefined;
  /** No retry follows if this attempt fails: a failure then waits for the job's next check. */
  finalAttempt?: boolean;
}

/**
 * The reconcile flow for one job: load → fetch job_status → classify → merge → schedule → store.
 * Return = done, throw RetryableCheckError = retry with backoff. Answers that retrying cannot fix soon
 * are postponed in Postgres instead of retried, so an authorisation error never becomes a hot loop.
 */
export function createStatusCheck({
  store,
  client,
  log,
  pollModel,
  now = () => new Date(),
  metrics,
}: {
  store: StatusStore;
  client: Pick<JobStatusClient, 'fetchStatus'>;
  log: FastifyBaseLogger;
  pollModel: PollModel;
  now?: () => Date;
  metrics?: Metrics | undefined;
}) {
  const flow: CheckFlow = { store, client, pollModel, now, metrics };
  return {
    /** One job_status check of a job, counted by its outcome. */
    run: (jobId: string, options: CheckOptions = {}): Promise<CheckOutcome> =>
      runCheck(flow, jobId, { ...options, log: options.log ?? log }),
    /** Merges a verified answer into the job; see applyStatus. */
    apply: (
      jobId: string,
      status: VerifiedStatus,
      fetchedAt: Date,
      loaded?: StoredJob,
    ): Promise<AppliedStatus | undefined> => applyStatus(flow, jobId, status, fetchedAt, loaded),
  };
}

/** Whether the job is to be asked about at all; then the call, and what its answer leads to. */
async function runCheck(
  flow: CheckFlow,
  jobId: string,
  { untrusted = false, log, queuedAt, finalAttempt = false }: CheckOptions & { log: FastifyBaseLogger },
): Promise<CheckOutcome> {
  const job = await flow.store.load(jobId);
  if (!job) return report(flow, 'unknown_job');
  // Checked since this was queued (a confirmation overtook a waiting blind poll): nothing to ask.
  if (queuedAt !== undefined && job.lastCheckedAt !== null && job.lastCheckedAt.getTime() > queuedAt) {
    return report(flow, 'already_checked');
  }
  const { outcome } = job;
  const check: JobCheck = { flow, job, log };
  if (untrusted && outcome.isFinal && outcome.confirmed) return report(flow, 'settled');
  if (!outcome.userId) {
    if (!outcome.tracked) return report(flow, 'no_user_id');
    log.warn({ jobId }, 'cannot check job_status: the job has no user id yet');
    await postpone(check, NO_USER_RETRY_MS);
    return report(flow, 'no_user_id');
  }
  const answer = await fetchStatus(flow, outcome.userId, jobId);
  return report(flow, await outcomeOf(check, answer, finalAttempt));
}

/** The call to Smile ID, timed and counted by what came back. */
async function fetchStatus({ client, metrics }: CheckFlow, userId: string, jobId: string) {
  const started = performance.now();
  const answer = await client.fetchStatus(userId, jobId);
  metrics?.smileApiDuration.observe({ result: answer.kind }, (performance.now() - started) / 1000);
  if (answer.kind === 'failed' || answer.kind === 'unauthorized')
    metrics?.smileApiErrors.inc({ code: answer.code });
  if (answer.kind === 'bad_signature') {
    metrics?.signatureFailures.inc({ source: 'job_status', reason: 'signature_mismatch' });
  }
  return answer;
}

/** What job_status's answer leads to: merged, or postponed, or retried (thrown). */
async function outcomeOf(
  check: JobCheck,
  answer: JobStatusAnswer,
  finalAttempt: boolean,
): Promise<CheckOutcome> {
  const { flow, job, log } = check;
  const jobId = job.outcome.jobId;
  switch (answer.kind) {
    case 'status':
      return applyAnswer(check, answer);
    case 'bad_signature':
      log.warn({ jobId }, 'job_status response signature does not verify; not applied');
      return (await postpone(check, BAD_SIGNATURE_RETRY_MS)) ? 'stale' : 'bad_signature';
    case 'unauthorized':
      log.error(
        { jobId, code: answer.code },
        'Smile ID refused our job_status signature: check SMILE_PARTNER_ID and SMILE_API_KEYS',
      );
      return (await postpone(check, UNAUTHORIZED_RETRY_MS)) ? 'stale' : 'unauthorized';
    case 'failed':
      if (answer.retryable) {
        // Past the horizon a failing Smile ID gets no more retries: the job is stale.
        if (await pastHorizon(check)) return 'stale';
        if (finalAttempt) return retriesSpent(check, answer.code);
        flow.metrics?.polls.inc({ outcome: 'retry' });
        throw new RetryableCheckError(answer.code);
      }
      log.warn({ jobId, code: answer.code, status: answer.status }, 'job_status request refused');
      return (await postpone(check, REJECTED_REQUEST_RETRY_MS)) ? 'stale' : 'rejected_request';
  }
}

/** A verified answer merged into the job, then counted and told. */
async function applyAnswer({ flow, job, log }: JobCheck, answer: VerifiedStatus): Promise<CheckOutcome> {
  const { metrics } = flow;
  const jobId = job.outcome.jobId;
  const checkedAt = flow.now();
  const applied = await applyStatus(flow, jobId, answer, checkedAt, job);
  if (!applied) return 'unknown_job';
  recordTransition(metrics, applied.transition, applied.firstSeenAt, checkedAt);
  if (applied.submissionAcceptedAt !== null) {
    recordSubmissionUploaded(metrics, applied.submissionAcceptedAt, checkedAt);
    log.info({ jobId }, 'submission uploaded to Smile ID, as job_status shows');
  }
  if (applied.contradicted) {
    metrics?.callbacksContradicted.inc();
    log.warn(
      { jobId, state: applied.outcome.state },
      'job_status contradicts a final callback result: the callback was not believed',
    );
  }
  if (applied.schedule === 'stale')
    log.warn({ jobId, state: applied.outcome.state }, 'job is stale: horizon passed unconfirmed');
  return applied.schedule === 'stale' ? 'stale' : 'applied';
}

function report({ metrics }: CheckFlow, outcome: CheckOutcome): CheckOutcome {
  metrics?.polls.inc({ outcome });
  return outcome;
}

export type StatusCheck = ReturnType<typeof createStatusCheck>;
