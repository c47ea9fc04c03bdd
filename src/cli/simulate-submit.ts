import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { SimulatedJob } from '../simulator/callbacks.js';
import type { ServiceApi } from './simulate-follow.js';

/** The bundled JPEGs (src/cli/samples/SOURCE.md says how they were made), in the order they are sent. */
export const SAMPLE_IMAGES = [
  { type: 'selfie', file: 'selfie.jpg' },
  { type: 'liveness', file: 'liveness-1.jpg' },
  { type: 'liveness', file: 'liveness-2.jpg' },
  { type: 'idCardFront', file: 'id-card-front.jpg' },
] as const;

const SAMPLES_DIRECTORY = path.join(import.meta.dirname, 'samples');

/**
 * The body of `POST /v1/submissions` for a simulated job: its ids and name, the sandbox's test ID
 * number, the bundled JPEGs, and the simulator-only partner param `sim_life` when a life is asked for
 * (the simulated upload then plays it; Smile ID itself returns it untouched).
 */
export function submissionRequest(job: SimulatedJob, life?: string) {
  const [firstName = '', ...lastNames] = job.fullName.split(' ');
  return {
    jobId: job.jobId,
    userId: job.userId,
    jobType: 1,
    idInfo: {
      country: 'NG',
      idType: 'NIN',
      idNumber: '00000000000',
      firstName,
      lastName: lastNames.join(' '),
      dob: job.dob,
    },
    images: SAMPLE_IMAGES.map(({ type, file }) => ({
      type,
      jpegBase64: readFileSync(path.join(SAMPLES_DIRECTORY, file)).toString('base64'),
    })),
    ...(life === undefined ? {} : { partnerParams: { sim_life: life } }),
  };
}

/** Submits the job; true when the service took it (202, or 200 for the same submission again). */
export async function submitJob(api: ServiceApi, job: SimulatedJob, life?: string): Promise<boolean> {
  const body = JSON.stringify(submissionRequest(job, life));
  const response = await fetch(`${api.baseUrl}/v1/submissions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
    body,
  });
  const answer = await response.text();
  const size = `${(Buffer.byteLength(body) / 1024).toFixed(0)} KiB`;
  if (response.status !== 202 && response.status !== 200) {
    console.log(`  ${response.status} ${answer}  ← POST /v1/submissions, ${size}`);
    return false;
  }
  const { submission } = JSON.parse(answer) as { submission: { status: string } };
  const again = response.status === 200 ? ', the same submission again' : '';
  console.log(
    `  ${response.status} submission ${submission.status}  ← POST /v1/submissions, ${size}${again}`,
  );
  return true;
}
