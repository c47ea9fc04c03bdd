import { createHash } from 'node:crypto';
import { claimStanding, SECOND_LOOK_AFTER_MS } from './evidence.js';
import type { JobOutcome } from './outcome.js';

/**
 * When to ask Smile ID's job_status about a job. Smile ID's SDKs poll for about a minute and give up,
 * but human review takes hours or days, so the schedule starts fast and slows into a long tail that
 * ends at a configurable horizon. Pure: the clock and the job are arguments.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** Interval between checks while a job is younger than `untilAgeMs`. */
export const POLL_PHASES: readonly { untilAgeMs: number; intervalMs: number }[] = [
  { untilAgeMs: 1 * MINUTE, intervalMs: 3 * SECOND },
  { untilAgeMs: 10 * MINUTE, intervalMs: 30 * SECOND },
  { untilAgeMs: 1 * HOUR, intervalMs: 2 * MINUTE },
  { untilAgeMs: 6 * HOUR, intervalMs: 10 * MINUTE },
  { untilAgeMs: 48 * HOUR, intervalMs: 30 * MINUTE },
  { untilAgeMs: Number.POSITIVE_INFINITY, intervalMs: 2 * HOUR },
];

/** How soon to confirm a job whose state a callback just changed: within seconds. */
export const CONFIRM_AFTER_CALLBACK_MS = 2 * SECOND;

/**
 * How soon to look again after job_status did not yet confirm a final callback: Smile ID may send a
 * callback moments before its job_status shows the same, so one quick second look separates "not yet"
 * from "disagrees" before the claim is called contradicted.
 */
export const RECHECK_DEMOTED_CLAIM_MS = SECOND_LOOK_AFTER_MS;

/** While a check is queued or running, the sweeper leaves the job alone for this long. */
export const CHECK_LEASE_MS = 2 * MINUTE;

/** A job needs checks until its state is final and agrees with a job_status response we fetched. */
export function needsCheck(outcome: Pick<JobOutcome, 'isFinal' | 'confirmed'>): boolean {
  return !(outcome.isFinal && outcome.confirmed);
}

export type NextCheck = { at: Date } | { stale: true } | { done: true };

/**
 * The next check after one that left the job as `outcome`. Spread by up to +10% of the interval,
 * fixed per job, so jobs created together do not poll together forever.
 */
export function nextCheck(
  outcome: Pick<JobOutcome, 'jobId' | 'isFinal' | 'confirmed' | 'tracked' | 'evidence'>,
  firstSeenAt: Date,
  now: Date,
  horizonMs: number,
): NextCheck {
  // A job that only untrusted bodies know of is not polled: its one check did not find it.
  if (!needsCheck(outcome) || !outcome.tracked) return { done: true };
  const ageMs = now.getTime() - firstSeenAt.getTime();
  if (ageMs >= horizonMs) return { stale: true };
  if (claimStanding(outcome.evidence) === 'demoted') {
    return { at: new Date(now.getTime() + RECHECK_DEMOTED_CLAIM_MS) };
  }
  const phase = POLL_PHASES.find((candidate) => ageMs < candidate.untilAgeMs) ?? POLL_PHASES.at(-1)!;
  const delayMs = Math.round(phase.intervalMs * (1 + 0.1 * spreadOf(outcome.jobId)));
  return { at: new Date(Math.min(now.getTime() + delayMs, firstSeenAt.getTime() + horizonMs)) };
}

/**
 * After a callback: a job that still needs confirming is checked within seconds, or sooner if it
 * was already due; a job with nothing left to confirm keeps its schedule.
 */
export function checkAfterCallback(
  outcome: Pick<JobOutcome, 'isFinal' | 'confirmed'>,
  currentNextCheckAt: Date | null,
  now: Date,
): Date | null {
  if (!needsCheck(outcome)) return currentNextCheckAt;
  const soon = new Date(now.getTime() + CONFIRM_AFTER_CALLBACK_MS);
  return currentNextCheckAt !== null && currentNextCheckAt < soon ? currentNextCheckAt : soon;
}

/** A number in [0, 1) fixed for each job id. */
function spreadOf(jobId: string): number {
  return createHash('sha256').update(jobId).digest().readUInt32BE(0) / 2 ** 32;
}
