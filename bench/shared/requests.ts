import { resultCallback, type SimulatedJob, signCallback } from '../../src/simulator/callbacks.js';
import { SMILE_CREDENTIALS } from './settings.js';

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
