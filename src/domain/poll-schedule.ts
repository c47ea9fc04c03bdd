import { createHash } from 'node:crypto';
import { claimStanding, type ResultEvidence, SECOND_LOOK_AFTER_MS } from './evidence.js';
import type { JobOutcome } from './outcome.js';

/**
 * When to ask Smile ID's job_status about a job, from what the service knows of it (the model and its
 * sources: docs/design.md#the-polling-model). Pure: the clock, the job and the model are arguments.
 *
 * - A callback that changed the job is confirmed within seconds (checkAfterCallback).
 * - A job that Smile ID's signed job_status says is in review expects a final callback: it is checked
 *   only as a fallback for a lost one, from `reviewFirstMs` on, the interval growing with its age.
 * - A silent job (registered or submitted, no callback yet) may have lost its callbacks: it is checked
 *   from `silentFirstMs`, the interval doubling with its age.
 * - No interval exceeds `maxIntervalMs`; past `horizonMs` the job is stale.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

export interface PollModel {
  /** After this long without becoming final and confirmed, a job is stale and no longer checked. */
  horizonMs: number;
  /** A silent job's first check, and the floor of its interval: machine decisions take seconds. */
  silentFirstMs: number;
  /** A job in review's first fallback check, and the floor of its interval: reviews take minutes to hours. */
  reviewFirstMs: number;
  /** The longest interval between two checks. */
  maxIntervalMs: number;
}

export const DEFAULT_POLL_MODEL: PollModel = {
  horizonMs: 168 * HOUR,
  silentFirstMs: 30 * SECOND,
  reviewFirstMs: 30 * MINUTE,
  maxIntervalMs: 6 * HOUR,
};

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
  model: PollModel,
): NextCheck {
  const { horizonMs } = model;
  // A job that only untrusted bodies know of is not polled: its one check did not find it.
  if (!needsCheck(outcome) || !outcome.tracked) return { done: true };
  const ageMs = now.getTime() - firstSeenAt.getTime();
  if (ageMs >= horizonMs) return { stale: true };
  if (claimStanding(outcome.evidence) === 'demoted') {
    return { at: new Date(now.getTime() + RECHECK_DEMOTED_CLAIM_MS) };
  }
  const floorMs = inReview(outcome.evidence) ? model.reviewFirstMs : model.silentFirstMs;
  const intervalMs = Math.min(model.maxIntervalMs, Math.max(floorMs, ageMs));
  const delayMs = Math.round(intervalMs * (1 + 0.1 * spreadOf(outcome.jobId)));
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

/**
 * Smile ID's own signed job_status answer showed the job started and not final: it is with a human
 * reviewer, and its final callback will come. A callback saying so does not count: anyone may send one.
 */
export function inReview(evidence: ResultEvidence): boolean {
  return evidence.status !== undefined && !evidence.status.facet.final;
}

/** A number in [0, 1) fixed for each job id. */
function spreadOf(jobId: string): number {
  return createHash('sha256').update(jobId).digest().readUInt32BE(0) / 2 ** 32;
}
