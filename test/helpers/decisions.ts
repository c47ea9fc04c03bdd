import { DEFAULT_POLL_MODEL } from '../../src/domain/poll-schedule.js';
import type { Metrics } from '../../src/observability/metrics.js';
import { createStatusCheck } from '../../src/reconcile/check-status.js';
import { idInfoCallback, type SimulatedJob, smileSecureCallback } from '../../src/simulator/callbacks.js';
import { type JobLife, jobStatusAt, suspectOf } from '../../src/simulator/job-lives.js';
import type { JobStatusClient } from '../../src/smileid/job-status-client.js';
import { createStatusStore } from '../../src/store/evidence/status-store.js';
import { bearer } from '../http/api-fixtures.js';
import { API_TOKEN, type TestApp } from './app.js';
import { silentLogger, unreachableSmileId } from './status.js';

/**
 * Jobs driven to a decision as the service reaches them: registered through the API, then decided by
 * Smile ID's signed job_status answers, handed in by the test and checked as the reconciler checks a job.
 */

/** Long enough after a simulated job started for every life to have ended. */
const LIFE_OVER_MS = 10_000_000;

export type StatusBody = Record<string, unknown>;

/** Smile ID's job_status answer for a life, `elapsedMs` in. */
export const lifeAnswer = (job: SimulatedJob, life: JobLife, elapsedMs = LIFE_OVER_MS): StatusBody => ({
  ...jobStatusAt(life, job, elapsedMs),
});

/** An approval whose ID record says the ID number was registered before by `others` (none: not before). */
export const approvedWithRegistrants = (job: SimulatedJob, others: string[]): StatusBody => ({
  ...jobStatusAt('approved', job, LIFE_OVER_MS),
  history: [idInfoCallback(job, { photoBytes: 16, previousRegistrants: others })],
});

/** An approval in which Smile Secure names these suspects (the life's own suspect when none are given). */
export const approvedWithSuspects = (
  job: SimulatedJob,
  suspects: { user_id: string; reason: string }[] = [suspectOf(job)],
): StatusBody => {
  const answer = jobStatusAt('approved', job, LIFE_OVER_MS);
  return { ...answer, history: [...(answer.history as StatusBody[]), smileSecureCallback(job, suspects)] };
};

export function decisionDriver(t: TestApp, { metrics }: { metrics?: Metrics } = {}) {
  let next: StatusBody | undefined;
  /** Smile ID as the reconciler asks it: it gives the answer the test handed in, signed and verified. */
  const smileId: Pick<JobStatusClient, 'fetchStatus'> = {
    fetchStatus: async () => {
      if (!next) return unreachableSmileId.fetchStatus('', '');
      const body = { ...next, timestamp: new Date().toISOString(), signature: 'verified elsewhere' };
      next = undefined;
      return {
        kind: 'status',
        body,
        raw: Buffer.from(JSON.stringify(body)),
        timestamp: 'ts',
        signature: 'sig',
      };
    },
  };
  const check = createStatusCheck({
    store: createStatusStore({ pool: t.db.pool, cipher: t.cipher, vault: t.storage.vault }),
    client: smileId,
    log: silentLogger,
    pollModel: DEFAULT_POLL_MODEL,
    policy: t.config.DECISION_POLICY,
    metrics,
  });

  async function register(job: SimulatedJob, extra: Record<string, unknown> = {}) {
    return t.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: bearer(API_TOKEN),
      payload: { jobId: job.jobId, userId: job.userId, jobType: 1, ...extra },
    });
  }

  /** A check of the job in which Smile ID's job_status answers `body`, applied as the reconciler does. */
  async function answer(job: SimulatedJob, body: StatusBody) {
    next = body;
    return check.run(job.jobId);
  }

  return { register, answer };
}
