import { createHash, randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { changeFromStatus, postponedCheck, type StatusChange } from '../domain/job-change.js';
import { needsCheck, nextCheck, type PollModel } from '../domain/poll-schedule.js';
import { statusShowsZip } from '../domain/submission.js';
import { type Metrics, recordSubmissionUploaded, recordTransition } from '../observability/metrics.js';
import { classifyJobStatusShape } from '../smileid/classify.js';
import type { JobStatusAnswer, JobStatusClient } from '../smileid/job-status-client.js';
import { parseSmileTimestamp } from '../smileid/timestamp.js';
import type { StatusStore } from '../store/evidence/status-store.js';
import type { StoredJob } from '../store/jobs/job-table.js';
import type { StashedBody } from '../store/objects/body-vault.js';
import { withCompareAndSwap } from '../store/transactions.js';

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

export type VerifiedStatus = Extract<JobStatusAnswer, { kind: 'status' }>;

export interface AppliedStatus extends Pick<StatusChange, 'transition' | 'schedule'> {
  outcome: StatusChange['after'];
  firstSeenAt: Date;
  /** This answer made the job's final claim contradicted: job_status disagrees with a callback. */
  contradicted: boolean;
  /** When the job's submission was accepted, if this answer (showing the zip) marked it uploaded. */
  submissionAcceptedAt: Date | null;
}

const BAD_SIGNATURE_RETRY_MS = 60_000;
const UNAUTHORIZED_RETRY_MS = 15 * 60_000;
const REJECTED_REQUEST_RETRY_MS = 15 * 60_000;
const NO_USER_RETRY_MS = 60 * 60_000;
/** The least a job waits after a check whose every attempt failed (Smile ID down, or failing for it). */
const RETRIES_SPENT_MIN_MS = 5 * 60_000;

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

  /**
   * Merges a verified answer into the job, decided afresh from the job as read (`loaded` serves the
   * first attempt; a lost compare-and-swap reads it again). Undefined when the job no longer exists.
   */
  async function apply(
    jobId: string,
    status: VerifiedStatus,
    fetchedAt: Date,
    loaded?: StoredJob,
  ): Promise<AppliedStatus | undefined> {
    const classified = classifyJobStatusShape(status.body);
    const { timestamp: _t, signature: _s, ...content } = status.body;
    const answer = {
      ...classified,
      signedAt: parseSmileTimestamp(status.timestamp),
      contentHash: createHash('sha256').update(JSON.stringify(content)).digest('hex'),
      fetchedAt,
    };
    // Whom job_status was asked about: an answer confirms that user only, even if the job changed since.
    const askedUserId = loaded?.outcome.userId ?? null;
    let known = loaded;
    // One snapshot id and one stashed body for every attempt: a lost compare-and-swap writes nothing.
    const snapshotId = randomUUID();
    let stashed: StashedBody | undefined;
    let kept = false;
    const applied = await withCompareAndSwap(async () => {
      const job = known ?? (await store.load(jobId));
      known = undefined;
      if (!job) return undefined as AppliedStatus | undefined;
      const change = changeFromStatus(job, answer, { askedUserId, pollModel });
      stashed ??= await store.stashBody(snapshotId, status.raw);
      // Smile ID has the zip of a submission still marked otherwise (its worker died mid-PUT, or before
      // it heard the answer): marked uploaded with this answer, in the same transaction.
      const pendingSubmission = job.submission !== null && job.submission.status !== 'uploaded';
      const written = await store.write(
        {
          jobId,
          version: job.version,
          change,
          at: fetchedAt,
          evidence: {
            id: snapshotId,
            fetchedAt,
            contentHash: answer.contentHash,
            facets: classified.kinds,
            jobComplete: typeof status.body.job_complete === 'boolean' ? status.body.job_complete : null,
            jobSuccess: typeof status.body.job_success === 'boolean' ? status.body.job_success : null,
            bodyBytes: status.raw.length,
            body: stashed.sealed,
            bodyObjects: stashed.objects,
          },
        },
        change.contradictedClaim === null ? null : { contentHash: change.contradictedClaim },
        pendingSubmission && statusShowsZip(status.body),
      );
      if (!written.written) return null;
      kept = written.snapshotStored;
      return {
        outcome: change.after,
        transition: change.transition,
        schedule: change.schedule,
        firstSeenAt: job.createdAt,
        contradicted: change.contradictedClaim !== null,
        submissionAcceptedAt: written.submissionAcceptedAt,
      };
    }).finally(() => {
      // The same answer stored before, the job gone, or every attempt lost: no row refers to its objects.
      if (stashed && !kept) store.discardObjects(stashed);
    });
    return applied;
  }

  /**
   * Counts a check that produced nothing to merge, and sets the next one `delayMs` from now, or marks
   * the job stale past its horizon (true then). One attempt: a write that lands meanwhile (a callback, a
   * registration) has set the job's schedule itself, and the sweeper's lease makes the job due again in
   * any case, so a lost postpone loses nothing.
   */
  async function postpone(job: StoredJob, delayMs: number, jobLog: FastifyBaseLogger): Promise<boolean> {
    const checkedAt = now();
    const schedule = postponedCheck(job, new Date(checkedAt.getTime() + delayMs), checkedAt, pollModel);
    await store.postpone(job.outcome.jobId, job.version, schedule, checkedAt);
    const stale = schedule.staleAt !== null;
    if (stale && job.staleAt === null) {
      jobLog.warn(
        { jobId: job.outcome.jobId, state: job.outcome.state },
        'job is stale: horizon passed unconfirmed',
      );
    }
    return stale;
  }

  /**
   * Every attempt of this check failed: the job waits for its next regular check (at least a few
   * minutes), rather than being due again as soon as the sweeper's lease lapses. Smile ID failing for
   * one job, or for all, then costs the schedule's calls, not a retry burst every lease.
   */
  async function retriesSpent(job: StoredJob, code: string, jobLog: FastifyBaseLogger) {
    const at = now();
    const regular = nextCheck(job.outcome, job.createdAt, at, pollModel);
    const regularMs = 'at' in regular ? regular.at.getTime() - at.getTime() : 0;
    const stale = await postpone(job, Math.max(RETRIES_SPENT_MIN_MS, regularMs), jobLog);
    if (!stale)
      jobLog.warn(
        { jobId: job.outcome.jobId, code },
        'job_status kept failing; the job waits for its next check',
      );
    return stale ? ('stale' as const) : ('retries_spent' as const);
  }

  /** Marks a job past its horizon stale (true then); leaves any other job as it is. */
  async function pastHorizon(job: StoredJob, jobLog: FastifyBaseLogger): Promise<boolean> {
    const settled = !needsCheck(job.outcome);
    if (!job.outcome.tracked || settled || now().getTime() < job.createdAt.getTime() + pollModel.horizonMs) {
      return false;
    }
    return postpone(job, 0, jobLog);
  }

  /** `untrusted`: the one check an untrusted body bought; none is spent on a job job_status has settled. */
  async function run(
    jobId: string,
    {
      untrusted = false,
      log: jobLog = log,
      queuedAt,
      finalAttempt = false,
    }: {
      untrusted?: boolean;
      log?: FastifyBaseLogger;
      queuedAt?: number | undefined;
      /** No retry follows if this attempt fails: a failure then waits for the job's next check. */
      finalAttempt?: boolean;
    } = {},
  ): Promise<CheckOutcome> {
    const job = await store.load(jobId);
    if (!job) return report('unknown_job');
    // Checked since this was queued (a confirmation overtook a waiting blind poll): nothing to ask.
    if (queuedAt !== undefined && job.lastCheckedAt !== null && job.lastCheckedAt.getTime() > queuedAt) {
      return report('already_checked');
    }
    const { outcome } = job;
    if (untrusted && outcome.isFinal && outcome.confirmed) return report('settled');
    if (!outcome.userId) {
      if (!outcome.tracked) return report('no_user_id');
      jobLog.warn({ jobId }, 'cannot check job_status: the job has no user id yet');
      await postpone(job, NO_USER_RETRY_MS, jobLog);
      return report('no_user_id');
    }
    const answer = await fetchStatus(outcome.userId, jobId);
    switch (answer.kind) {
      case 'status': {
        const checkedAt = now();
        const applied = await apply(jobId, answer, checkedAt, job);
        if (!applied) return report('unknown_job');
        recordTransition(metrics, applied.transition, applied.firstSeenAt, checkedAt);
        if (applied.submissionAcceptedAt !== null) {
          recordSubmissionUploaded(metrics, applied.submissionAcceptedAt, checkedAt);
          jobLog.info({ jobId }, 'submission uploaded to Smile ID, as job_status shows');
        }
        if (applied.contradicted) {
          metrics?.callbacksContradicted.inc();
          jobLog.warn(
            { jobId, state: applied.outcome.state },
            'job_status contradicts a final callback result: the callback was not believed',
          );
        }
        if (applied.schedule === 'stale')
          jobLog.warn({ jobId, state: applied.outcome.state }, 'job is stale: horizon passed unconfirmed');
        return report(applied.schedule === 'stale' ? 'stale' : 'applied');
      }
      case 'bad_signature':
        jobLog.warn({ jobId }, 'job_status response signature does not verify; not applied');
        return report((await postpone(job, BAD_SIGNATURE_RETRY_MS, jobLog)) ? 'stale' : 'bad_signature');
      case 'unauthorized':
        jobLog.error(
          { jobId, code: answer.code },
          'Smile ID refused our job_status signature: check SMILE_PARTNER_ID and SMILE_API_KEYS',
        );
        return report((await postpone(job, UNAUTHORIZED_RETRY_MS, jobLog)) ? 'stale' : 'unauthorized');
      case 'failed':
        if (answer.retryable) {
          // Past the horizon a failing Smile ID gets no more retries: the job is stale.
          if (await pastHorizon(job, jobLog)) return report('stale');
          if (finalAttempt) return report(await retriesSpent(job, answer.code, jobLog));
          metrics?.polls.inc({ outcome: 'retry' });
          throw new RetryableCheckError(answer.code);
        }
        jobLog.warn({ jobId, code: answer.code, status: answer.status }, 'job_status request refused');
        return report(
          (await postpone(job, REJECTED_REQUEST_RETRY_MS, jobLog)) ? 'stale' : 'rejected_request',
        );
    }
  }

  function report(outcome: CheckOutcome): CheckOutcome {
    metrics?.polls.inc({ outcome });
    return outcome;
  }

  return { run, apply };
}

export type StatusCheck = ReturnType<typeof createStatusCheck>;
