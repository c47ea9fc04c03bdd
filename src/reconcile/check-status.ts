import type { FastifyBaseLogger } from 'fastify';
import type { StatusStore } from '../jobs/status-store.js';
import type { JobStatusClient } from '../smileid/job-status-client.js';

export type CheckOutcome =
  | 'applied'
  | 'stale'
  | 'unknown_job'
  | 'no_user_id'
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
  onOutcome = () => undefined,
}: {
  store: StatusStore;
  client: JobStatusClient;
  log: FastifyBaseLogger;
  now?: () => Date;
  onOutcome?: (outcome: CheckOutcome | 'retry', code?: string) => void;
}) {
  const postpone = async (jobId: string, delayMs: number) => {
    const checkedAt = now();
    await store.postpone(jobId, new Date(checkedAt.getTime() + delayMs), checkedAt);
  };

  async function run(jobId: string): Promise<CheckOutcome> {
    const job = await store.load(jobId);
    if (!job) return report('unknown_job');
    if (!job.userId) {
      log.warn({ jobId }, 'cannot check job_status: the job has no user id yet');
      await postpone(jobId, NO_USER_RETRY_MS);
      return report('no_user_id');
    }
    const answer = await client.fetchStatus(job.userId, jobId);
    switch (answer.kind) {
      case 'status': {
        const applied = await store.applyStatus(jobId, answer, now());
        if (!applied) return report('unknown_job');
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
        return report('unauthorized', answer.code);
      case 'failed':
        if (answer.retryable) {
          onOutcome('retry', answer.code);
          throw new RetryableCheckError(answer.code);
        }
        log.warn({ jobId, code: answer.code, status: answer.status }, 'job_status request refused');
        await postpone(jobId, REJECTED_REQUEST_RETRY_MS);
        return report('rejected_request', answer.code);
    }
  }

  function report(outcome: CheckOutcome, code?: string): CheckOutcome {
    onOutcome(outcome, code);
    return outcome;
  }

  return { run };
}
