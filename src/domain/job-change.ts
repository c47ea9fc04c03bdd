import { initialDecision, type JobDecision, redecide } from './decision/job-decision.js';
import type { PolicyInUse } from './decision/policy.js';
import { claimStanding } from './evidence.js';
import type { Facet } from './facets.js';
import { mergeObservation, needsConfirmation, type Transition, transitionBetween } from './merge.js';
import { emptyOutcome, type JobOutcome, type Observation } from './outcome.js';
import { checkAfterCallback, needsCheck, nextCheck, type PollModel } from './poll-schedule.js';

/**
 * What one callback or one job_status answer changes about a job: the merged outcome and the schedule
 * that follows from it. Decided here, from the job as it was read; the store only writes the result.
 */

/** The schedule a stored job carries beside its outcome. */
export interface JobSchedule {
  /** When the job was first seen: the poll schedule and its horizon count from here. */
  createdAt: Date;
  nextCheckAt: Date | null;
  /** Set once the horizon passed without a final, confirmed result. */
  staleAt: Date | null;
  /** The one low-priority check an untrusted body bought, until the sweeper queues it. */
  untrustedCheckAt: Date | null;
}

/** The job as a decision reads it. */
export interface JobView extends JobSchedule {
  outcome: JobOutcome;
  /** What our registration or submission gave; null for a job only Smile ID's bodies named. */
  idType: string | null;
  country: string | null;
  decision: JobDecision;
}

/** A finished change to one job, ready to be written with the evidence that caused it. */
export interface JobChange {
  after: JobOutcome;
  transition: Transition | undefined;
  /** Added to the job's counters. */
  counts: { events: number; untrustedEvents: number; checks: number };
  nextCheckAt: Date | null;
  staleAt: Date | null;
  /** Null keeps the stored value. */
  lastCheckedAt: Date | null;
  untrustedCheckAt: Date | null;
  /** The job's decision, derived again from what it now holds: written with it, in the same statement. */
  decision: JobDecision;
}

/**
 * The decision of a job after a change, from its new outcome and schedule (a stale job decides
 * otherwise), with what our registration gave. A job not seen before has no registration.
 */
function decisionAfter(
  job: JobView | undefined,
  after: JobOutcome,
  staleAt: Date | null,
  policy: PolicyInUse,
  at: Date,
): JobDecision {
  const context = {
    idType: job?.idType ?? null,
    country: job?.country ?? null,
    stale: staleAt !== null,
    decision: job?.decision ?? null,
  };
  return redecide(after, context, policy, at);
}

/**
 * Whether an untrusted body may change the job at all: what job_status has settled (final and
 * confirmed), none may touch; such a body is kept as evidence only.
 */
export function untrustedMayTouch(job: JobView | undefined): boolean {
  return !(job?.outcome.isFinal && job.outcome.confirmed);
}

export interface CallbackChange extends JobChange {
  /** The body named another user than the job's. */
  identityConflict: boolean;
}

/**
 * A callback's change. A trusted one asks job_status to confirm within seconds and brings a stale job
 * back to life; an untrusted one moves no schedule, but the first for a job buys it one check, due
 * `untrustedCheckDelayMs` after it arrived.
 */
export function changeFromCallback(
  job: JobView | undefined,
  observation: Observation,
  { untrustedCheckDelayMs, policy }: { untrustedCheckDelayMs: number; policy: PolicyInUse },
): CallbackChange {
  const { trusted, receivedAt } = observation;
  const before = job?.outcome;
  const after = mergeObservation(before, observation);
  const currentCheck = job?.nextCheckAt ?? null;
  const bought = (before?.untrustedAt ?? null) === null && after.untrustedAt !== null;
  const staleAt = trusted && !(after.isFinal && after.confirmed) ? null : (job?.staleAt ?? null);
  return {
    after,
    transition: transitionBetween(before, after),
    counts: { events: 1, untrustedEvents: trusted ? 0 : 1, checks: 0 },
    nextCheckAt:
      trusted && after.tracked ? checkAfterCallback(after, currentCheck, receivedAt) : currentCheck,
    staleAt,
    lastCheckedAt: null,
    untrustedCheckAt:
      bought && after.needsConfirmation && after.userId !== null
        ? new Date(receivedAt.getTime() + untrustedCheckDelayMs)
        : (job?.untrustedCheckAt ?? null),
    decision: decisionAfter(job, after, staleAt, policy, receivedAt),
    identityConflict: observation.userId !== null && observation.userId !== after.userId,
  };
}

/** What a job_status answer said, as classified, with its own timestamp and content hash. */
export interface StatusAnswer {
  jobId: string | null;
  userId: string | null;
  jobType: number | null;
  smileJobIds: string[];
  facets: Facet[];
  /** The answer's signed timestamp (epoch ms), when it parsed. */
  signedAt: number | undefined;
  contentHash: string;
  fetchedAt: Date;
}

export interface StatusChange extends JobChange {
  schedule: 'scheduled' | 'done' | 'stale';
  /** The final callback claim this answer made contradicted: its content hash, to mark it. */
  contradictedClaim: string | null;
}

/**
 * A job_status answer's change: merged as the most authoritative observation, then the next check
 * scheduled from the result. `askedUserId` is whom job_status was asked about: an answer confirms that
 * user only, even if the job changed since the question.
 */
export function changeFromStatus(
  job: JobView,
  answer: StatusAnswer,
  {
    askedUserId,
    pollModel,
    policy,
  }: { askedUserId: string | null; pollModel: PollModel; policy: PolicyInUse },
): StatusChange {
  const before = job.outcome;
  const { fetchedAt } = answer;
  const after = mergeObservation(before, {
    jobId: before.jobId,
    userId: answer.userId,
    jobType: answer.jobType,
    smileJobIds: answer.smileJobIds,
    facets: answer.facets,
    authority: 'job_status',
    at: answer.signedAt ?? fetchedAt.getTime(),
    hash: answer.contentHash,
    receivedAt: fetchedAt,
    trusted: true,
    returnsJob:
      (answer.jobId === before.jobId || answer.facets.length > 0) &&
      before.userId === (askedUserId ?? before.userId) &&
      (answer.userId === null || answer.userId === before.userId),
  });
  const next = nextCheck(after, job.createdAt, fetchedAt, pollModel);
  const contradicted =
    claimStanding(after.evidence) === 'contradicted' && claimStanding(before.evidence) !== 'contradicted';
  const staleAt = 'stale' in next ? (job.staleAt ?? fetchedAt) : null;
  return {
    after,
    transition: transitionBetween(before, after),
    counts: { events: 0, untrustedEvents: 0, checks: 1 },
    nextCheckAt: 'at' in next ? next.at : null,
    staleAt,
    lastCheckedAt: fetchedAt,
    // Whatever an untrusted body wanted to know, this answer has told.
    untrustedCheckAt: null,
    decision: decisionAfter(job, after, staleAt, policy, fetchedAt),
    schedule: 'at' in next ? 'scheduled' : 'stale' in next ? 'stale' : 'done',
    contradictedClaim: contradicted ? (after.evidence.claims.final?.rank.hash ?? null) : null,
  };
}

/**
 * A check that produced no answer to merge (a bad signature, a refused request, Smile ID failing): try
 * again at `at`, but never past the horizon. A job past it is stale, as an answer would have made it, so
 * that a job_status that keeps failing for one job costs no calls after the horizon. A job that only
 * untrusted bodies know of had its one check and is not polled again.
 */
export function postponedCheck(
  job: JobView,
  at: Date,
  now: Date,
  model: Pick<PollModel, 'horizonMs'>,
  policy: PolicyInUse,
): { nextCheckAt: Date | null; staleAt: Date | null; decision: JobDecision } {
  const schedule = postponedSchedule(job, at, now, model);
  return { ...schedule, decision: decisionAfter(job, job.outcome, schedule.staleAt, policy, now) };
}

function postponedSchedule(
  job: JobView,
  at: Date,
  now: Date,
  model: Pick<PollModel, 'horizonMs'>,
): { nextCheckAt: Date | null; staleAt: Date | null } {
  // Untracked, or final and confirmed: nothing is scheduled, as after an answer.
  if (!job.outcome.tracked || !needsCheck(job.outcome)) return { nextCheckAt: null, staleAt: null };
  const horizon = job.createdAt.getTime() + model.horizonMs;
  if (now.getTime() >= horizon) return { nextCheckAt: null, staleAt: job.staleAt ?? now };
  return { nextCheckAt: new Date(Math.min(at.getTime(), horizon)), staleAt: null };
}

export interface Registration {
  jobId: string;
  userId: string;
  jobType?: number | undefined;
  idType?: string | undefined;
  country?: string | undefined;
}

export type RegistrationChange =
  | { kind: 'conflict' }
  /** A job not seen yet: created registered, pending, due at its first check. */
  | { kind: 'create'; nextCheckAt: Date; decision: JobDecision }
  | {
      kind: 'adopt';
      after: JobOutcome;
      nextCheckAt: Date | null;
      firstRegistration: boolean;
      /** What the job's first registration said, kept by every later one. */
      idType: string | null;
      country: string | null;
      decision: JobDecision;
    };

/**
 * A registration's change. Identity comes from us: a user id that only bodies claimed gives way to the
 * registration; one that a registration or a job_status answer established does not (a conflict). A job
 * that only untrusted bodies knew of was not polled: it is now, from its first check.
 */
export function changeFromRegistration(
  job: (JobView & { registeredAt: Date | null }) | undefined,
  registration: Registration,
  { now, pollModel, policy }: { now: Date; pollModel: PollModel; policy: PolicyInUse },
): RegistrationChange {
  const first = nextCheck({ ...emptyOutcome(registration.jobId), tracked: true }, now, now, pollModel);
  const firstCheckAt = 'at' in first ? first.at : now;
  if (!job) return { kind: 'create', nextCheckAt: firstCheckAt, decision: initialDecision(policy, now) };
  const existing = job.outcome;
  const established = existing.identity === 'registration' || existing.identity === 'job_status';
  if (established && existing.userId !== null && existing.userId !== registration.userId) {
    return { kind: 'conflict' };
  }
  const jobType = registration.jobType ?? null;
  const adopted: JobOutcome = {
    ...existing,
    userId: registration.userId,
    jobType: established ? (existing.jobType ?? jobType) : (jobType ?? existing.jobType),
    identity: 'registration',
    tracked: true,
  };
  const after = { ...adopted, needsConfirmation: needsConfirmation(adopted) };
  const registered = {
    ...job,
    idType: job.idType ?? registration.idType ?? null,
    country: job.country ?? registration.country ?? null,
  };
  return {
    kind: 'adopt',
    after,
    nextCheckAt: existing.tracked ? job.nextCheckAt : firstCheckAt,
    firstRegistration: job.registeredAt === null,
    idType: registered.idType,
    country: registered.country,
    decision: decisionAfter(registered, after, job.staleAt, policy, now),
  };
}
