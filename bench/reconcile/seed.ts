import { post, postApprovedResult, registerJob } from '../shared/requests.js';
import type { BenchJob } from './jobs.js';
import { forEachInParallel } from './parallel.js';

/** Requests in flight while setting up: quick, yet far from any listener's backlog. */
const SEED_CONCURRENCY = 64;

/** Smile ID learns every job with the life `approved`: job_status answers it final and successful. */
export async function registerInSimulator(simulatorUrl: string, jobs: readonly BenchJob[]): Promise<void> {
  await forEachInParallel(jobs, SEED_CONCURRENCY, async ({ job }) => {
    await post(`${simulatorUrl}/__sim/jobs`, { jobId: job.jobId, userId: job.userId, life: 'approved' }, 201);
  });
}

/**
 * Seeds the service through its own HTTP API, so every row is what production writes would make:
 * a `final` job receives its signed approved result callback (final, not yet confirmed); a `silent`
 * job is registered with POST /v1/jobs and hears nothing more (pending until polled).
 */
export async function seedService(apiUrl: string, jobs: readonly BenchJob[]): Promise<void> {
  await forEachInParallel(jobs, SEED_CONCURRENCY, async ({ population, job }) => {
    if (population === 'final') await postApprovedResult(apiUrl, job);
    else await registerJob(apiUrl, job);
  });
}
