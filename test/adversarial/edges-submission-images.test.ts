import JSZip from 'jszip';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jpegOfSize } from '../../scripts/sized-jpegs.js';
import {
  jobWhen,
  startService,
  startSimulator,
  type TestService,
  type TestSimulator,
} from '../helpers/service.js';
import { submissionRequest } from '../helpers/submissions.js';

const MIB = 1024 * 1024;

/**
 * POST /v1/submissions with images at and around the documented limits (SUBMISSION_MAX_IMAGE_BYTES,
 * 4 MiB), under the default body limit, and with bytes that only start like a JPEG.
 */
describe('edges: submission images', () => {
  let simulator: TestSimulator;
  let service: TestService;
  const large = jpegOfSize(Math.round(3.2 * MIB));
  const atLimit = jpegOfSize(4 * MIB);
  beforeAll(async () => {
    simulator = await startSimulator();
    // The default limits: nothing here sets SUBMISSION_MAX_BYTES or SUBMISSION_MAX_IMAGE_BYTES.
    service = await startService(simulator.url, { SUBMISSION_RETRY_DELAY_MS: '100' });
  });
  afterAll(async () => {
    await service?.close();
    await simulator?.close();
  });

  const withSelfie = (jpegBase64: string) =>
    submissionRequest({ images: [{ type: 'selfie', jpegBase64 }], partnerParams: {} });
  const submit = (body: unknown) => service.api('POST', '/v1/submissions', body);
  const stored = async (jobId: string) =>
    (await service.deps.db.pool.query('SELECT 1 FROM jobs WHERE job_id = $1', [jobId])).rowCount;
  const putsFor = (jobId: string) =>
    [...simulator.state.uploads.values()].filter((upload) => upload.jobId === jobId);

  it('accepts real JPEGs of 3.2 MiB and of exactly 4 MiB, which a base64 pattern refused as VALIDATION_FAILED, and uploads them', {
    timeout: 60_000,
  }, async () => {
    expect(service.config.SUBMISSION_MAX_IMAGE_BYTES).toBe(4 * MIB);
    for (const jpeg of [large, atLimit]) {
      const request = withSelfie(jpeg.toString('base64'));
      const answer = await submit(request);
      expect(answer.status, JSON.stringify(answer.body)).toBe(202);
      const job = await jobWhen(
        service,
        request.jobId,
        (body) => body.submission?.status === 'uploaded',
        30_000,
      );
      expect(job?.submission).toMatchObject({ status: 'uploaded', error: null });
      expect(putsFor(request.jobId).map((upload) => upload.uploadedAt !== undefined)).toEqual([true]);
    }
  });

  it('answers an image of 4 MiB and one byte with IMAGE_TOO_LARGE, storing nothing', async () => {
    // One byte of padding after the end-of-image marker: still a JPEG, one byte over the limit.
    const request = withSelfie(Buffer.concat([atLimit, Buffer.alloc(1)]).toString('base64'));
    expect(await submit(request)).toMatchObject({
      status: 400,
      body: {
        error: {
          code: 'IMAGE_TOO_LARGE',
          message: `images[0] is ${4 * MIB + 1} bytes; the limit is ${4 * MIB}`,
        },
      },
    });
    expect(await stored(request.jobId)).toBe(0);
  });

  it('judges the size by the base64 length before decoding: base64 too long for the limit is too large, valid or not', async () => {
    const request = withSelfie(`data:image/jpeg;base64,${atLimit.toString('base64')}`);
    expect(await submit(request)).toMatchObject({
      status: 400,
      body: { error: { code: 'IMAGE_TOO_LARGE' } },
    });
  });

  it.each([
    ['a line break', (base64: string) => `${base64.slice(0, 76)}\n${base64.slice(76)}`],
    ['a data: prefix', (base64: string) => `data:image/jpeg;base64,${base64}`],
    ['URL-safe letters', (base64: string) => base64.replaceAll('+', '-').replaceAll('/', '_')],
  ])('still refuses 3.2 MiB of base64 with %s as VALIDATION_FAILED', async (_what, spoil) => {
    const spoilt = spoil(large.toString('base64'));
    expect(spoilt).not.toBe(large.toString('base64'));
    const request = withSelfie(spoilt);
    expect(await submit(request)).toMatchObject({
      status: 400,
      body: {
        error: {
          code: 'VALIDATION_FAILED',
          message: 'body: images.0.jpegBase64 must be base64 (no data: prefix)',
        },
      },
    });
    expect(await stored(request.jobId)).toBe(0);
  });

  it('refuses FF D8 FF alone, and FF D8 FF before an HTML page or a zip, as IMAGE_NOT_JPEG: nothing reaches Smile ID', async () => {
    const magic = Buffer.from([0xff, 0xd8, 0xff]);
    const html = Buffer.from('<!doctype html><html><body><script>fetch("/steal")</script></body></html>');
    const zip = await new JSZip().file('index.html', html).generateAsync({ type: 'nodebuffer' });
    for (const bytes of [magic, Buffer.concat([magic, html]), Buffer.concat([magic, html, zip])]) {
      const request = withSelfie(bytes.toString('base64'));
      const answer = await submit(request);
      expect(answer).toMatchObject({ status: 400, body: { error: { code: 'IMAGE_NOT_JPEG' } } });
      expect(answer.body.error?.message).toMatch(/^images\[0\] is not a JPEG: /);
      expect(await stored(request.jobId)).toBe(0);
      expect(putsFor(request.jobId)).toEqual([]);
    }
  });
});
