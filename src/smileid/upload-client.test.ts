import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildSimulator, type Simulator } from '../simulator/server.js';
import { buildJobPackage } from './job-package.js';
import { createUploadClient } from './upload-client.js';

const PARTNER_ID = '085';
const API_KEY = 'upload-client-key';
/** A real JPEG: the bundled sample selfie (a drawn face). */
const JPEG = readFileSync(new URL('../cli/samples/selfie.jpg', import.meta.url));

let clock = Date.now();
let sim: Simulator;
let baseUrl: string;
beforeEach(async () => {
  clock = Date.now();
  sim = buildSimulator({ partnerId: PARTNER_ID, apiKey: API_KEY, now: () => new Date(clock) });
  baseUrl = `${await sim.app.listen({ port: 0, host: '127.0.0.1' })}/v1`;
});
afterEach(() => sim.app.close());

const client = (apiKey = API_KEY, url = baseUrl) =>
  createUploadClient({
    baseUrl: url,
    partnerId: PARTNER_ID,
    apiKeys: [apiKey],
    timeoutMs: 2000,
    now: () => new Date(clock),
  });
const request = (jobId: string, retry = false) => ({
  partnerParams: { job_id: jobId, user_id: `user-of-${jobId}`, job_type: 1 },
  callbackUrl: 'not-delivered',
  retry,
});

describe('the upload client, against the simulated Smile ID', () => {
  it('prepares an upload, and the package it then PUTs is uploaded', async () => {
    const prepared = await client().prepUpload(request('client-job-1'));
    if (prepared.kind !== 'prepared') throw new Error(`expected prepared, got ${prepared.kind}`);
    const zip = await buildJobPackage({
      partnerId: PARTNER_ID,
      signature: prepared.signature,
      timestamp: prepared.timestamp,
      partnerParams: request('client-job-1').partnerParams,
      callbackUrl: 'not-delivered',
      retry: false,
      idInfo: { country: 'NG', idType: 'NIN', idNumber: '00000000000' },
      images: [{ type: 'selfie', jpeg: JPEG }],
      serverInformation: prepared.serverInformation,
    });
    expect(await client().upload(prepared.uploadUrl, zip)).toEqual({ kind: 'uploaded' });
  });

  it('reads 2215 as "the job exists" and lets a retry prepare it again', async () => {
    expect((await client().prepUpload(request('client-job-2'))).kind).toBe('prepared');
    expect(await client().prepUpload(request('client-job-2'))).toEqual({ kind: 'job_exists' });
    expect((await client().prepUpload(request('client-job-2', true))).kind).toBe('prepared');
  });

  it('reads 2205 as unauthorized: our key is not the one Smile ID knows', async () => {
    expect(await client('not-our-key').prepUpload(request('client-job-3'))).toEqual({
      kind: 'unauthorized',
      code: '2205',
    });
  });

  it('reads a 403 from an upload URL past its time as expired', async () => {
    const prepared = await client().prepUpload(request('client-job-4'));
    if (prepared.kind !== 'prepared') throw new Error('expected prepared');
    clock += 2 * 3_600_000;
    expect(await client().upload(prepared.uploadUrl, Buffer.from('zip'))).toEqual({ kind: 'expired' });
  });

  it('reads an unreachable Smile ID as a failure worth retrying', async () => {
    const answer = await client(API_KEY, 'http://127.0.0.1:1/v1').prepUpload(request('client-job-5'));
    expect(answer).toMatchObject({ kind: 'failed', code: 'network_error', retryable: true });
  });
});
