import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PII_TOKEN } from '../helpers/app.js';
import {
  type ApiBody,
  startService,
  startSimulator,
  type TestService,
  type TestSimulator,
} from '../helpers/service.js';
import { fakeJpeg, submissionRequest } from '../helpers/submissions.js';

type Submission = NonNullable<ApiBody['submission']>;

/**
 * POST /v1/submissions against the simulator playing Smile ID: the whole round trip (prep upload, zip,
 * upload, callbacks, job_status), idempotency, refusals, and what is left of the images afterwards.
 */
describe('POST /v1/submissions', () => {
  let simulator: TestSimulator;
  let service: TestService;

  beforeAll(async () => {
    simulator = await startSimulator();
    service = await startService(simulator.url, {
      SUBMISSION_MAX_BYTES: String(256 * 1024),
      SUBMISSION_MAX_IMAGE_BYTES: String(64 * 1024),
      SUBMISSION_RETRY_DELAY_MS: '100',
      SUBMISSION_CONCURRENCY: '2',
    });
  });
  afterAll(async () => {
    await service?.close();
    await simulator?.close();
  });

  const submit = (body: unknown) => service.api('POST', '/v1/submissions', body);

  async function until(jobId: string, done: (job: ApiBody) => boolean, timeoutMs = 20_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { body } = await service.api('GET', `/v1/jobs/${jobId}`);
      if (done(body) || Date.now() > deadline) return body;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it('submits a job to Smile ID and follows it to a final, confirmed outcome', async () => {
    const request = submissionRequest();
    const accepted = await submit(request);
    expect(accepted.status).toBe(202);
    // The answer shows the submission as it is once accepted: a worker may already have taken it.
    expect(accepted.body).toMatchObject({ jobId: request.jobId, submission: { error: null } });
    expect(['queued', 'uploading', 'uploaded']).toContain(
      (accepted.body as { submission: Submission }).submission.status,
    );

    const job = await until(request.jobId, (body) => body.isFinal === true && body.confirmed === true);
    expect(job).toMatchObject({
      jobId: request.jobId,
      userId: request.userId,
      jobType: 1,
      userIdSource: 'registration',
      state: 'approved',
      isFinal: true,
      confirmed: true,
    });
    const submission = job.submission as Submission;
    expect(submission).toMatchObject({ status: 'uploaded', attempts: 1, error: null });
    expect(submission.smileJobId).toMatch(/^\d+$/);
    expect(Date.parse(submission.submittedAt!)).toBeGreaterThanOrEqual(Date.parse(submission.queuedAt));
    // The simulator took exactly one prep upload and one zip for it.
    const uploads = [...simulator.state.uploads.values()].filter((upload) => upload.jobId === request.jobId);
    expect(uploads).toHaveLength(1);
    expect(uploads[0]!.uploadedAt).toBeDefined();
    expect(uploads[0]!.callbackUrl).toBe(service.config.PUBLIC_CALLBACK_URL);

    const metrics = await (await fetch(`${service.baseUrl}/metrics`)).text();
    const value = (series: string) =>
      Number(
        metrics
          .split('\n')
          .find((line) => line.startsWith(`${series} `))
          ?.split(' ')[1] ?? Number.NaN,
      );
    expect(value('smileid_submissions_total{event="accepted"}')).toBeGreaterThanOrEqual(1);
    expect(value('smileid_submissions_total{event="uploaded"}')).toBeGreaterThanOrEqual(1);
    expect(value('smileid_submission_calls_total{call="prep_upload",result="ok"}')).toBeGreaterThanOrEqual(1);
    expect(value('smileid_submission_calls_total{call="upload",result="ok"}')).toBeGreaterThanOrEqual(1);
    expect(value('smileid_submissions{status="uploaded"}')).toBeGreaterThanOrEqual(1);
    expect(value('smileid_submission_duration_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(metrics).toMatch(/^smileid_submission_oldest_pending_seconds \d/m);
  });

  it('uploads no more submissions at once than SUBMISSION_CONCURRENCY, whatever the status checks run', async () => {
    // A slow bucket keeps each upload in flight long enough for every queued one to be started if allowed.
    await simulator.control('/faults', { uploadLatencyMs: 300 });
    try {
      const requests = Array.from({ length: 6 }, () => submissionRequest());
      for (const request of requests) expect((await submit(request)).status).toBe(202);
      for (const request of requests) {
        expect(
          (await until(request.jobId, (body) => body.submission?.status === 'uploaded')).submission,
        ).toMatchObject({ status: 'uploaded' });
      }
    } finally {
      await simulator.control('/faults', {});
    }
    const stats = (await simulator.control('/stats')) as { maxConcurrentUploads: number };
    expect(stats.maxConcurrentUploads).toBe(2);
  });

  it('keeps no image bytes or identity data once Smile ID has the zip', async () => {
    const request = submissionRequest();
    expect((await submit(request)).status).toBe(202);
    await until(request.jobId, (body) => body.submission?.status === 'uploaded');
    const { rows } = await service.deps.db.pool.query(
      'SELECT payload, prepared, image_count, image_bytes FROM submissions WHERE job_id = $1',
      [request.jobId],
    );
    expect(rows).toEqual([
      { payload: null, prepared: null, image_count: 4, image_bytes: expect.any(Number) },
    ]);
    expect(rows[0].image_bytes).toBeGreaterThan(0);
  });

  it('answers the same request again with 200 and the same job, and other content under its job id with 409', async () => {
    const request = submissionRequest();
    expect((await submit(request)).status).toBe(202);
    // Key order and whitespace do not make a request different.
    const { images, idInfo, ...rest } = request;
    const reordered = { ...rest, idInfo: Object.fromEntries(Object.entries(idInfo).reverse()), images };
    const again = await submit(reordered);
    expect(again.status).toBe(200);
    expect(again.body.jobId).toBe(request.jobId);

    const otherSelfie = {
      ...request,
      images: [{ type: 'selfie', jpegBase64: fakeJpeg().toString('base64') }, ...request.images.slice(1)],
    };
    expect(await submit(otherSelfie)).toMatchObject({
      status: 409,
      body: { error: { code: 'SUBMISSION_CONFLICT' } },
    });
    const otherIdNumber = { ...request, idInfo: { ...request.idInfo, idNumber: '10987654321' } };
    expect((await submit(otherIdNumber)).body.error?.code).toBe('SUBMISSION_CONFLICT');
    const otherUser = { ...request, userId: 'someone-else' };
    expect((await submit(otherUser)).body.error?.code).toBe('SUBMISSION_CONFLICT');
  });

  it('generates a job id when none is sent', async () => {
    const { jobId: _jobId, ...request } = submissionRequest();
    const first = await submit(request);
    const second = await submit(request);
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(first.body.jobId).toMatch(/^[0-9a-f-]{36}$/);
    expect(second.body.jobId).not.toBe(first.body.jobId);
  });

  it('refuses a job id that belongs to a job not submitted through the service', async () => {
    const request = submissionRequest();
    expect(
      (await service.api('POST', '/v1/jobs', { jobId: request.jobId, userId: request.userId })).status,
    ).toBe(201);
    expect(await submit(request)).toMatchObject({ status: 409, body: { error: { code: 'JOB_ID_IN_USE' } } });
  });

  const base = submissionRequest();
  const selfie = base.images[0]!;
  const liveness = () => ({ type: 'liveness', jpegBase64: fakeJpeg().toString('base64') });
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]).toString('base64');
  it.each([
    ['no selfie', { images: [liveness()] }, 'IMAGE_COUNT'],
    ['two selfies', { images: [selfie, { ...selfie }] }, 'IMAGE_COUNT'],
    ['nine liveness images', { images: [selfie, ...Array.from({ length: 9 }, liveness)] }, 'IMAGE_COUNT'],
    ['a PNG', { images: [{ type: 'selfie', jpegBase64: png }] }, 'IMAGE_NOT_JPEG'],
    [
      'an image over SUBMISSION_MAX_IMAGE_BYTES',
      { images: [{ type: 'selfie', jpegBase64: fakeJpeg('x'.repeat(70 * 1024)).toString('base64') }] },
      'IMAGE_TOO_LARGE',
    ],
    [
      'base64 with a data: prefix',
      { images: [{ ...selfie, jpegBase64: `data:image/jpeg;base64,${selfie.jpegBase64}` }] },
      'VALIDATION_FAILED',
    ],
    ['an unknown image type', { images: [{ ...selfie, type: 'portrait' }] }, 'VALIDATION_FAILED'],
    ['job type 5', { jobType: 5 }, 'VALIDATION_FAILED'],
    ['no ID number', { idInfo: { country: 'NG', idType: 'NIN' } }, 'VALIDATION_FAILED'],
    ['entered: false', { idInfo: { ...base.idInfo, entered: false } }, 'VALIDATION_FAILED'],
    ['a lower-case country', { idInfo: { ...base.idInfo, country: 'ng' } }, 'VALIDATION_FAILED'],
    [
      'a date of birth that is not YYYY-MM-DD',
      { idInfo: { ...base.idInfo, dob: '31/01/1990' } },
      'VALIDATION_FAILED',
    ],
    ['a reserved partner param', { partnerParams: { job_id: 'other' } }, 'VALIDATION_FAILED'],
    ['a partner param that is not a string', { partnerParams: { attempt: 2 } }, 'VALIDATION_FAILED'],
    ['an unknown field', { callbackUrl: 'https://attacker.example' }, 'VALIDATION_FAILED'],
  ])('refuses %s with 400 and a code, storing nothing', async (_name, overrides, code) => {
    const request = submissionRequest(overrides);
    const answer = await submit(request);
    expect(answer).toMatchObject({ status: 400, body: { error: { code } } });
    const { rowCount } = await service.deps.db.pool.query('SELECT 1 FROM jobs WHERE job_id = $1', [
      request.jobId,
    ]);
    expect(rowCount).toBe(0);
  });

  it('refuses a body over SUBMISSION_MAX_BYTES with 413, whatever the callback limit', async () => {
    const images = [
      selfie,
      ...Array.from({ length: 8 }, () => ({
        type: 'liveness',
        jpegBase64: fakeJpeg('y'.repeat(40 * 1024)).toString('base64'),
      })),
    ];
    const answer = await submit(submissionRequest({ images }));
    expect(answer).toMatchObject({ status: 413, body: { error: { code: 'BODY_TOO_LARGE' } } });
  });

  it('accepts a body larger than the callback limit when SUBMISSION_MAX_BYTES allows it', async () => {
    const local = await startService(simulator.url, { CALLBACK_MAX_BYTES: String(8 * 1024) });
    try {
      const answer = await local.api(
        'POST',
        '/v1/submissions',
        submissionRequest({
          images: [{ type: 'selfie', jpegBase64: fakeJpeg('z'.repeat(16 * 1024)).toString('base64') }],
        }),
      );
      expect(answer.status).toBe(202);
    } finally {
      await local.close();
    }
  });

  it('requires a bearer token', async () => {
    const response = await fetch(`${service.baseUrl}/v1/submissions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(submissionRequest()),
    });
    expect(response.status).toBe(401);
  });

  it('erases a submission not yet uploaded on request, and it fails saying why', async () => {
    const local = await startService(simulator.url, { ROLE: 'api' });
    try {
      const request = submissionRequest();
      expect((await local.api('POST', '/v1/submissions', request)).status).toBe(202);
      const response = await fetch(`${local.baseUrl}/v1/users/${request.userId}/identity-data`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${PII_TOKEN}` },
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ userId: request.userId, jobs: 1, submissions: 1 });
      const { body } = await local.api('GET', `/v1/jobs/${request.jobId}`);
      expect(body.submission).toMatchObject({ status: 'failed', error: { code: 'ERASED' } });
      const { rows } = await local.deps.db.pool.query(
        'SELECT payload, prepared, erased_at IS NOT NULL AS erased FROM submissions WHERE job_id = $1',
        [request.jobId],
      );
      expect(rows).toEqual([{ payload: null, prepared: null, erased: true }]);
    } finally {
      await local.close();
    }
  });

  it('answers 501 SUBMISSIONS_NOT_CONFIGURED in production without PUBLIC_CALLBACK_URL', async () => {
    const { createTestApp } = await import('../helpers/app.js');
    const app = await createTestApp({
      env: {
        NODE_ENV: 'production',
        CALLBACK_ALLOWED_CIDRS: 'any',
        DATA_ENCRYPTION_KEYS: 'k1:MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=',
      },
    });
    try {
      const response = await app.app.inject({
        method: 'POST',
        url: '/v1/submissions',
        headers: { authorization: 'Bearer api-token-for-tests' },
        payload: submissionRequest(),
      });
      expect(response.statusCode).toBe(501);
      expect(response.json()).toMatchObject({ error: { code: 'SUBMISSIONS_NOT_CONFIGURED' } });
    } finally {
      await app.close();
    }
  });
});
