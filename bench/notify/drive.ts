import { setTimeout as sleep } from 'node:timers/promises';
import { type SimulatedJob, simulatedJob } from '../../src/simulator/callbacks.js';
import { post, postApprovedResult, registerJob } from '../shared/requests.js';

/**
 * Changes made at a steady rate, the way production makes them: each job is registered through
 * POST /v1/jobs (pending), receives its signed approved result callback a second later (final, not yet
 * confirmed), and is confirmed by the worker's job_status check against the simulator (confirmed, which
 * also makes a `job.finalized`). Three changes a job, four webhook messages; two changes when the
 * worker's first check, on a busy machine, comes after Smile ID's result but before its callback.
 */

export const CHANGES_PER_JOB = 3;
/** Smile ID has the result, and sends its callback, this long after the job is registered. */
const RESULT_AFTER_MS = 1000;

export interface DriveTargets {
  apiUrl: string;
  simulatorUrl: string;
}

/** One job's life as far as the bench drives it; the worker makes the confirmation. */
async function liveJob(job: SimulatedJob, { apiUrl, simulatorUrl }: DriveTargets): Promise<void> {
  // Smile ID learns the job first, so that no check of the service asks about a job it does not know.
  const registration = {
    jobId: job.jobId,
    userId: job.userId,
    life: 'approved',
    startDelayMs: RESULT_AFTER_MS,
  };
  await post(`${simulatorUrl}/__sim/jobs`, registration, 201);
  await registerJob(apiUrl, job);
  await sleep(RESULT_AFTER_MS);
  await postApprovedResult(apiUrl, job);
}

/**
 * Starts `changesPerSecond / CHANGES_PER_JOB` jobs a second for `seconds`, ids `<prefix>-000000`…, and
 * resolves when the last callback was accepted; fails with the first request that went wrong.
 */
export async function driveChanges(
  targets: DriveTargets,
  { prefix, changesPerSecond, seconds }: { prefix: string; changesPerSecond: number; seconds: number },
): Promise<number> {
  const jobsPerSecond = changesPerSecond / CHANGES_PER_JOB;
  const jobs = Math.round(jobsPerSecond * seconds);
  const startedAt = Date.now();
  const lives: Promise<void>[] = [];
  let failure: unknown;
  for (let index = 0; index < jobs && failure === undefined; index += 1) {
    await sleep(Math.max(0, startedAt + (index * 1000) / jobsPerSecond - Date.now()));
    const job = simulatedJob({ jobId: `${prefix}-${String(index).padStart(6, '0')}` });
    lives.push(
      liveJob(job, targets).catch((error: unknown) => {
        failure ??= error;
      }),
    );
  }
  await Promise.all(lives);
  if (failure !== undefined) throw failure;
  return jobs;
}
