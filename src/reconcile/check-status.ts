import type { FastifyBaseLogger } from 'fastify';
import { type Metrics, recordTransition } from '../observability/metrics.js';
import type { JobStatusClient } from '../smileid/job-status-client.js';
import type { StatusStore } from '../store/status-store.js';

export type CheckOutcome =
  | 'applied'
  | 'stale'
  | 'unknown_job'
  | 'no_user_id'
  | 'settled'
  | 'bad_signature'
  | 'unauthorized'
  | 'rejected_request';

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

/**
 * One status check: ask Smile ID about a job and merge the signed answer. Return = done, throw
 * RetryableCheckError = retry with backoff. Answers that retrying cannot fix soon are postponed in
 * Postgres instead of retried, so an authorisation error never becomes a hot loop.
 */
export function createStatusCheck({
  store,
  client,
  log,
  now = () => new Date(),
  metrics,
}: {
  store: StatusStore;
  client: JobStatusClient;
  log: FastifyBaseLogger;
  now?: () => Date;
  metrics?: Metrics;
}) {
  /** The call to Smile ID, timed and counted by what came back. */
  async function fetchStatus(userId: string, jobId: string) {
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

  const postpone = async (jobId: string, delayMs: number) => {
    const checkedAt = now();
    await store.postpone(jobId, new Date(checkedAt.getTime() + delayMs), checkedAt);
  };

  /** `untrusted`: the one check an untrusted body bought; none is spent on a job job_status has settled. */
  async function run(jobId: string, { untrusted = false } = {}): Promise<CheckOutcome> {
    const job = await store.load(jobId);
    if (!job) return report('unknown_job');
    if (untrusted && job.isFinal && job.confirmed) return report('settled');
    if (!job.userId) {
      if (!job.tracked) return report('no_user_id');
      log.warn({ jobId }, 'cannot check job_status: the job has no user id yet');
      await postpone(jobId, NO_USER_RETRY_MS);
      return report('no_user_id');
    }
    const answer = await fetchStatus(job.userId, jobId);
    switch (answer.kind) {
      case 'status': {
        const checkedAt = now();
        const applied = await store.applyStatus(jobId, answer, checkedAt, job);
        if (!applied) return report('unknown_job');
        recordTransition(metrics, applied.transition, applied.firstSeenAt, checkedAt);
        if (applied.contradicted) {
          metrics?.callbacksContradicted.inc();
          log.warn(
            { jobId, state: applied.outcome.state },
            'job_status contradicts a final callback result: the callback was not believed',
          );
        }
        if (applied.schedule === 'stale')
          log.warn({ jobId, state: applied.outcome.state }, 'job is stale: horizon passed unconfirmed');
        return report(applied.schedule === 'stale' ? 'stale' : 'applied');
      }
      case 'bad_signature':
        log.warn({ jobId }, 'job_status response signature does not verify; not applied');
        await postpone(jobId, BAD_SIGNATURE_RETRY_MS);
        return report('bad_signature');
      case 'unauthorized':
        log.error(
          { jobId, code: answer.code },
          'Smile ID refused our job_status signature: check SMILE_PARTNER_ID and SMILE_API_KEYS',
        );
        await postpone(jobId, UNAUTHORIZED_RETRY_MS);
        return report('unauthorized');
      case 'failed':
        if (answer.retryable) {
          metrics?.polls.inc({ outcome: 'retry' });
          throw new RetryableCheckError(answer.code);
        }
        log.warn({ jobId, code: answer.code, status: answer.status }, 'job_status request refused');
        await postpone(jobId, REJECTED_REQUEST_RETRY_MS);
        return report('rejected_request');
    }
  }

  function report(outcome: CheckOutcome): CheckOutcome {
    metrics?.polls.inc({ outcome });
    return outcome;
  }

  return { run };
}
