import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import JSZip from 'jszip';
import { Signature, WebApi } from 'smile-identity-core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildSimulator, type Simulator } from './server.js';

/**
 * The simulator's submission side, cross-checked with Smile ID's official Node SDK: its own
 * `submit_job` (prep upload, zip packaging with jszip, PUT) must be accepted exactly as it is.
 */
const PARTNER_ID = '085';
const API_KEY = 'simulator-upload-key';
const oracle = new Signature(PARTNER_ID, API_KEY);
/** A real JPEG: the bundled sample selfie (a drawn face). */
const JPEG = readFileSync(new URL('../cli/samples/selfie.jpg', import.meta.url));

// biome-ignore lint/suspicious/noExplicitAny: the tests reshape info.json freely, into invalid shapes too
type Loose = Record<string, any>;

let clock = Date.now();
let sim: Simulator;
let simulatorUrl: string;
let receiver: Server;
let receivedBodies: Array<Record<string, unknown>>;
let callbackUrl: string;

beforeEach(async () => {
  clock = Date.now();
  sim = buildSimulator({ partnerId: PARTNER_ID, apiKey: API_KEY, now: () => new Date(clock) });
  simulatorUrl = await sim.app.listen({ port: 0, host: '127.0.0.1' });
  receivedBodies = [];
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      receivedBodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"accepted"}');
    });
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  callbackUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/callbacks/smile-id`;
});
afterEach(async () => {
  await sim.app.close();
  receiver.close();
});

async function prepUpload(jobId: string, overrides: Record<string, unknown> = {}) {
  const response = await fetch(`${simulatorUrl}/v1/upload`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      smile_client_id: PARTNER_ID,
      ...oracle.generate_signature(new Date(clock).toISOString()),
      partner_params: { job_id: jobId, user_id: `user-of-${jobId}`, job_type: 1 },
      callback_url: callbackUrl,
      file_name: 'selfie.zip',
      model_parameters: {},
      source_sdk: 'rest_api',
      source_sdk_version: '1.0.0',
      ...overrides,
    }),
  });
  const body = (await response.json()) as Loose;
  return { statusCode: response.status, json: () => body };
}

/** A package as the documentation describes it; `change` edits its info.json before zipping. */
async function zipFor(prep: Record<string, unknown>, jobId: string, change = (info: Loose) => info) {
  const zip = new JSZip();
  const info = change({
    package_information: {
      apiVersion: { buildNumber: 0, majorVersion: 2, minorVersion: 0 },
      language: 'typescript',
    },
    misc_information: {
      ...oracle.generate_signature(new Date(clock).toISOString()),
      retry: 'false',
      partner_params: { job_id: jobId, user_id: `user-of-${jobId}`, job_type: 1 },
      file_name: 'selfie.zip',
      smile_client_id: PARTNER_ID,
      callback_url: callbackUrl,
    },
    id_info: { country: 'NG', id_type: 'NIN', id_number: '00000000000', entered: true },
    images: [
      { image_type_id: 0, image: '', file_name: 'selfie.jpg' },
      { image_type_id: 6, image: JPEG.toString('base64'), file_name: '' },
    ],
    server_information: prep,
  });
  zip.file('info.json', JSON.stringify(info));
  zip.file('selfie.jpg', JPEG);
  return zip.generateAsync({ type: 'nodebuffer' });
}

async function put(url: string, body: Buffer) {
  const response = await fetch(url, { method: 'PUT', headers: { 'content-type': 'application/zip' }, body });
  return { status: response.status, text: await response.text() };
}

async function eventually<T>(read: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('the simulated submission side', () => {
  it("accepts a job submitted by the official SDK's own submit_job, and sends its callbacks to its callback_url", async () => {
    const directory = mkdtempSync(path.join(tmpdir(), 'sdk-images-'));
    const selfie = path.join(directory, 'selfie.jpg');
    writeFileSync(selfie, JPEG);
    const api = new WebApi(PARTNER_ID, callbackUrl, API_KEY, 0);
    // The SDK insists on https; the simulator listens on plain http, so its base URL is set after.
    (api as unknown as { url: string }).url = `${simulatorUrl}/v1`;
    const answer = await api.submit_job(
      { job_id: 'sdk-job-1', user_id: 'sdk-user-1', job_type: 1 },
      [
        { image_type_id: 0, image: selfie },
        { image_type_id: 2, image: JPEG.toString('base64') },
      ],
      { country: 'NG', id_type: 'NIN', id_number: '00000000000', entered: true },
      {},
    );
    expect(answer).toMatchObject({ success: true });
    const result = await eventually(() =>
      receivedBodies.find(
        (body) => 'ResultCode' in body && (body.PartnerParams as Loose | undefined)?.job_id === 'sdk-job-1',
      ),
    );
    expect(result).toMatchObject({ PartnerParams: { job_id: 'sdk-job-1', user_id: 'sdk-user-1' } });
    expect(result.SmileJobID).toBe((answer as { smile_job_id: string }).smile_job_id);
  });

  it('refuses a second prep upload for a job id with 2215, and allows it with retry: true', async () => {
    expect((await prepUpload('job-twice')).statusCode).toBe(200);
    const again = await prepUpload('job-twice');
    expect(again.statusCode).toBe(400);
    expect(again.json()).toMatchObject({ code: '2215' });
    const retried = await prepUpload('job-twice', { retry: true });
    expect(retried.statusCode).toBe(200);
    expect(retried.json().upload_url).not.toBe(
      (await prepUpload('job-twice', { retry: 'true' })).json().upload_url,
    );
  });

  it('refuses a prep upload whose signature or partner id is not ours with 2205', async () => {
    const forged = await prepUpload(
      'job-forged',
      new Signature(PARTNER_ID, 'another-key').generate_signature(new Date(clock).toISOString()),
    );
    expect(forged.statusCode).toBe(401);
    expect(forged.json()).toMatchObject({ code: '2205' });
    const otherPartner = await prepUpload('job-other', { smile_client_id: '999' });
    expect(otherPartner.json()).toMatchObject({ code: '2205' });
  });

  it('refuses packages Smile ID would refuse, naming why, and accepts the same package made right', async () => {
    const prep = (await prepUpload('job-zips')).json();
    const refusal = async (change: (info: Loose) => Loose) => {
      const answer = await put(prep.upload_url, await zipFor(prep, 'job-zips', change));
      expect(answer.status, answer.text).toBe(400);
      return JSON.parse(answer.text).error as string;
    };
    expect(await refusal((info) => ({ ...info, id_info: { ...info.id_info, entered: false } }))).toMatch(
      /entered/,
    );
    expect(
      await refusal((info) => ({
        ...info,
        images: [{ image_type_id: 2, image: Buffer.from('GIF89a').toString('base64') }],
      })),
    ).toMatch(/not a JPEG/);
    expect(
      await refusal((info) => ({ ...info, images: [{ image_type_id: 6, image: JPEG.toString('base64') }] })),
    ).toMatch(/no selfie/);
    expect(
      await refusal((info) => ({ ...info, images: [{ image_type_id: 0, file_name: 'absent.jpg' }] })),
    ).toMatch(/not in the zip/);
    expect(await refusal((info) => ({ ...info, server_information: { smile_job_id: '1' } }))).toMatch(
      /server_information/,
    );
    expect((await put(prep.upload_url, Buffer.from('not a zip'))).status).toBe(400);
    expect((await put(prep.upload_url, await zipFor(prep, 'job-zips'))).status).toBe(200);
  });

  it('refuses a zip PUT to an upload URL that has expired', async () => {
    const prep = (await prepUpload('job-late')).json();
    clock += 2 * 3_600_000;
    const late = await put(prep.upload_url, await zipFor(prep, 'job-late'));
    expect(late.status).toBe(403);
  });
});
