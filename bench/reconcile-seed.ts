import { resultCallback, type SimulatedJob, signCallback } from '../src/simulator/callbacks.js';
import { forEachInParallel } from './parallel.js';
import type { BenchJob } from './reconcile-jobs.js';
import { SMILE_CREDENTIALS } from './settings.js';

/** Requests in flight while setting up: quick, yet far from any listener's backlog. */
const SEED_CONCURRENCY = 64;

/** The bearer token the bench gives the API process to register jobs with. */
export const BENCH_API_TOKEN = 'bench-internal-token';

/** POSTs JSON and fails unless the answer has the `expected` status; resolves with the answer's text. */
export async function post(
  url: string,
  body: unknown,
  expected: number,
  headers: Record<string, string> = {},
) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status !== expected) {
    throw new Error(`POST ${url} answered ${response.status} (expected ${expected}): ${text.slice(0, 500)}`);
  }
  return text;
}

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

/** POST /v1/jobs: the job is known, pending, before Smile ID says anything. */
export async function registerJob(apiUrl: string, job: SimulatedJob): Promise<void> {
  await post(`${apiUrl}/v1/jobs`, { jobId: job.jobId, userId: job.userId }, 201, {
    authorization: `Bearer ${BENCH_API_TOKEN}`,
  });
}

/** The job's signed approved result callback, as Smile ID sends it; fails unless it is accepted. */
export async function postApprovedResult(apiUrl: string, job: SimulatedJob): Promise<void> {
  const body = signCallback(resultCallback(job, 'approved'), SMILE_CREDENTIALS);
  const answer = await post(`${apiUrl}/callbacks/smile-id`, body, 200);
  if (!answer.includes('"status":"accepted"')) throw new Error(`callback not accepted: ${answer}`);
}
