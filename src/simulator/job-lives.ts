import type { DecisionValue } from '../domain/decision/policy.js';
import {
  idInfoCallback,
  idNotFoundCallback,
  resultCallback,
  type SimulatedJob,
  simulatedJob,
  smileSecureCallback,
} from './callbacks.js';

/**
 * Scripted lives of a Biometric KYC job (docs/smile-id.md#callback-kinds, #job-status-api), as pure functions of the time elapsed since the
 * simulator registered the job. One list of timed callbacks drives both what is delivered to a
 * callback URL and what job_status answers, so the two can never disagree.
 */

export const JOB_LIVES = [
  'approved',
  'review',
  'rejected',
  'id_not_found',
  'suspects',
  'pure_provisional',
  'pending_approval',
  'failed',
  'never_started',
] as const;
export type JobLife = (typeof JOB_LIVES)[number];

/**
 * The decision the default policy (policies/default.yaml) gives each life once it has played out and
 * job_status has confirmed its end, by the rule that gives it: between them the lives reach every
 * decision. src/decide/default-policy.test.ts holds the policy to it.
 */
export const LIFE_DECISIONS: Readonly<Record<JobLife, { value: DecisionValue; rule: string }>> = {
  approved: { value: 'approve', rule: 'approved' },
  review: { value: 'approve', rule: 'approved' },
  rejected: { value: 'reject', rule: 'rejected' },
  id_not_found: { value: 'reject', rule: 'rejected' },
  suspects: { value: 'review', rule: 'smile_secure_suspects' },
  pure_provisional: { value: 'approve', rule: 'approved' },
  pending_approval: { value: 'pending', rule: 'pending_approval' },
  failed: { value: 'retry', rule: 'id_authority_unavailable' },
  never_started: { value: 'pending', rule: 'no_result' },
};

/** What job_status says in `result` before anything has happened (docs/smile-id.md#job-status-api). */
export const NOT_STARTED_RESULT = 'No zip uploaded yet';

/** Human review takes hours in production; a minute keeps a local run watchable. */
export const DEFAULT_REVIEW_DELAY_MS = 60_000;

export interface LifeTiming {
  /** Until then the job has not started: no callback, `result` is a plain string. Default 0. */
  startDelayMs?: number;
  /** Time from the provisional result to the final one, in the `review` life only. */
  reviewDelayMs?: number;
  /** Size of the ID authority's photo in the ID-information callback, once base64-encoded. */
  photoBytes?: number;
}

export interface LifeCallback {
  /** When the job sends it, in ms after registration. */
  atMs: number;
  label: string;
  /** Unsigned: signatures are added at the moment of sending. */
  body: Record<string, unknown>;
  /** Present on result callbacks: what job_status reports while this is the latest result. */
  settles?: { complete: boolean; success: boolean };
}

export interface JobStatusBody {
  job_complete: boolean;
  job_success: boolean;
  code: '2302';
  result: Record<string, unknown> | typeof NOT_STARTED_RESULT;
  history: Record<string, unknown>[];
  image_links: Record<string, string>;
}

/** Every callback the job sends over its life, in the order it sends them. */
export function lifeCallbacks(life: JobLife, job: SimulatedJob, timing: LifeTiming = {}): LifeCallback[] {
  const start = timing.startDelayMs ?? 0;
  const idInfo = {
    atMs: start,
    label: 'ID information',
    body: idInfoCallback(job, { photoBytes: timing.photoBytes ?? 4096 }),
  };
  const result = (scenario: 'approved' | 'rejected', label = `result: ${scenario}`): LifeCallback => ({
    atMs: start,
    label,
    body: resultCallback(job, scenario),
    settles: { complete: true, success: scenario === 'approved' },
  });
  switch (life) {
    case 'approved':
      return [idInfo, result('approved')];
    case 'rejected':
      return [idInfo, result('rejected')];
    case 'review':
      return [
        idInfo,
        {
          atMs: start,
          label: 'result: provisional',
          body: resultCallback(job, 'provisional'),
          settles: { complete: false, success: false },
        },
        {
          ...result('approved', 'result: approved after review'),
          atMs: start + (timing.reviewDelayMs ?? DEFAULT_REVIEW_DELAY_MS),
        },
      ];
    case 'id_not_found':
      // The ID authority's answer is the whole outcome: there is no record to send separately.
      return [
        {
          atMs: start,
          label: 'result: ID not found',
          body: idNotFoundCallback(job),
          settles: { complete: true, success: false },
        },
      ];
    case 'suspects':
      return [
        idInfo,
        result('approved'),
        {
          atMs: start,
          label: 'Smile Secure: suspects',
          body: smileSecureCallback(job, [suspectOf(job)]),
        },
      ];
    case 'pure_provisional':
      // Provisionally approved with the ID number unverified, then settled by review.
      return [
        idInfo,
        {
          atMs: start,
          label: 'result: pure provisional',
          body: resultCallback(job, 'pure_provisional'),
          settles: { complete: false, success: false },
        },
        {
          ...result('approved', 'result: approved after review'),
          atMs: start + (timing.reviewDelayMs ?? DEFAULT_REVIEW_DELAY_MS),
        },
      ];
    case 'pending_approval':
      return [
        idInfo,
        {
          atMs: start,
          label: 'result: pending approval (final)',
          body: resultCallback(job, 'pending_approval'),
          settles: { complete: true, success: false },
        },
      ];
    case 'failed':
      // The ID authority could not be reached: no record to send, and the job could not be processed.
      return [
        {
          atMs: start,
          label: 'result: failed',
          body: resultCallback(job, 'failed'),
          settles: { complete: true, success: false },
        },
      ];
    case 'never_started':
      return [];
  }
}

/** The unsigned job_status response body `elapsedMs` after registration. */
export function jobStatusAt(
  life: JobLife,
  job: SimulatedJob,
  elapsedMs: number,
  timing: LifeTiming = {},
): JobStatusBody {
  const sent = lifeCallbacks(life, job, timing).filter((callback) => callback.atMs <= elapsedMs);
  const latest = sent.filter((callback) => callback.settles !== undefined).at(-1);
  const history = sent.sort((a, b) => a.atMs - b.atMs).map((callback) => callback.body);
  if (!latest?.settles) {
    return {
      job_complete: false,
      job_success: false,
      code: '2302',
      result: NOT_STARTED_RESULT,
      history,
      image_links: {},
    };
  }
  return {
    job_complete: latest.settles.complete,
    job_success: latest.settles.success,
    code: '2302',
    result: latest.body,
    history,
    image_links: { selfie_image: `https://smile-simulator.invalid/images/${job.smileJobId}/selfie.jpg` },
  };
}

/** Another of the partner's users whose selfie Smile Secure finds to match this job's. */
export function suspectOf(job: SimulatedJob): { user_id: string; reason: string } {
  return {
    user_id: simulatedJob({ jobId: `${job.jobId}:suspect` }).userId,
    reason: 'Selfie matches a previously enrolled user',
  };
}
