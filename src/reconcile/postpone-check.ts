import { postponedCheck } from '../domain/job-change.js';
import { needsCheck, nextCheck } from '../domain/poll-schedule.js';
import type { JobCheck } from './check-flow.js';

/** The least a job waits after a check whose every attempt failed (Smile ID down, or failing for it). */
const RETRIES_SPENT_MIN_MS = 5 * 60_000;

/**
 * Counts a check that produced nothing to merge, and sets the next one `delayMs` from now, or marks
 * the job stale past its horizon (true then). One attempt: a write that lands meanwhile (a callback, a
 * registration) has set the job's schedule itself, and the sweeper's lease makes the job due again in
 * any case, so a lost postpone loses nothing.
 */
export async function postpone({ flow, job, log }: JobCheck, delayMs: number): Promise<boolean> {
  const { store, now, pollModel } = flow;
  const checkedAt = now();
  const schedule = postponedCheck(job, new Date(checkedAt.getTime() + delayMs), checkedAt, pollModel);
  await store.postpone(job.outcome.jobId, job.version, schedule, checkedAt);
  const stale = schedule.staleAt !== null;
  if (stale && job.staleAt === null) {
    log.warn(
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
export async function retriesSpent(check: JobCheck, code: string) {
  const { flow, job, log } = check;
  const at = flow.now();
  const regular = nextCheck(job.outcome, job.createdAt, at, flow.pollModel);
  const regularMs = 'at' in regular ? regular.at.getTime() - at.getTime() : 0;
  const stale = await postpone(check, Math.max(RETRIES_SPENT_MIN_MS, regularMs));
  if (!stale)
    log.warn({ jobId: job.outcome.jobId, code }, 'job_status kept failing; the job waits for its next check');
  return stale ? ('stale' as const) : ('retries_spent' as const);
}

/** Marks a job past its horizon stale (true then); leaves any other job as it is. */
export async function pastHorizon(check: JobCheck): Promise<boolean> {
  const { flow, job } = check;
  const settled = !needsCheck(job.outcome);
  if (
    !job.outcome.tracked ||
    settled ||
    flow.now().getTime() < job.createdAt.getTime() + flow.pollModel.horizonMs
  ) {
    return false;
  }
  return postpone(check, 0);
}
