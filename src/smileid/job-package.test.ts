import { readFileSync } from 'node:fs';
import { Signature } from 'smile-identity-core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildSimulator, type Simulator } from '../simulator/server.js';
import { readUploadedPackage } from '../simulator/upload-package.js';
import { buildJobPackage, infoJson, type JobPackage } from './job-package.js';

const PARTNER_ID = '085';
const API_KEY = 'package-test-key';
/** A real JPEG: the bundled sample selfie (a drawn face). */
const JPEG = readFileSync(new URL('../cli/samples/selfie.jpg', import.meta.url));

let sim: Simulator;
let simulatorUrl: string;
beforeEach(async () => {
  sim = buildSimulator({ partnerId: PARTNER_ID, apiKey: API_KEY });
  simulatorUrl = await sim.app.listen({ port: 0, host: '127.0.0.1' });
});
afterEach(() => sim.app.close());

async function prepared(jobId: string): Promise<JobPackage> {
  const signed = new Signature(PARTNER_ID, API_KEY).generate_signature(new Date().toISOString());
  const partnerParams = { job_id: jobId, user_id: `user-of-${jobId}`, job_type: 1 };
  const response = await fetch(`${simulatorUrl}/v1/upload`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      smile_client_id: PARTNER_ID,
      ...signed,
      partner_params: partnerParams,
      callback_url: 'not-delivered',
      file_name: 'selfie.zip',
      model_parameters: {},
    }),
  });
  expect(response.status).toBe(200);
  return {
    partnerId: PARTNER_ID,
    signature: signed.signature,
    timestamp: String(signed.timestamp),
    partnerParams,
    callbackUrl: 'not-delivered',
    retry: false,
    idInfo: { country: 'NG', idType: 'NIN', idNumber: '00000000000', firstName: 'Ada' },
    images: [
      { type: 'selfie', jpeg: JPEG },
      { type: 'liveness', jpeg: JPEG },
      { type: 'liveness', jpeg: JPEG },
    ],
    serverInformation: (await response.json()) as Record<string, unknown>,
  };
}

describe('the job package', () => {
  it('is accepted by the simulated upload URL, which checks it as Smile ID documents packages', async () => {
    const job = await prepared('package-job-1');
    const zip = await buildJobPackage(job);
    const checked = await readUploadedPackage(zip);
    expect(checked).toMatchObject({ ok: true, package: { jobId: 'package-job-1', imageTypes: [0, 4, 4] } });
    const put = await fetch(String(job.serverInformation.upload_url), {
      method: 'PUT',
      headers: { 'content-type': 'application/zip' },
      body: zip,
    });
    expect(put.status, await put.text()).toBe(200);
  });

  it('marks the ID details entered, names each image file once, and returns the prep answer untouched', async () => {
    const job = await prepared('package-job-2');
    const info = infoJson(job);
    expect(info.id_info).toMatchObject({ entered: true, country: 'NG', id_type: 'NIN', first_name: 'Ada' });
    expect(info.id_info).not.toHaveProperty('last_name');
    expect(info.images.map((image) => image.file_name)).toEqual([
      'selfie.jpg',
      'liveness-1.jpg',
      'liveness-2.jpg',
    ]);
    expect(info.server_information).toBe(job.serverInformation);
    expect(info.misc_information).toMatchObject({ retry: 'false', smile_client_id: PARTNER_ID });
  });
});
