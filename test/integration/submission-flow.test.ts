import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initialDecision } from '../../src/domain/decision/job-decision.js';
import { DEFAULT_POLL_MODEL } from '../../src/domain/poll-schedule.js';
import { contentDigestParts, type SubmissionContent } from '../../src/domain/submission.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { createStatusCheck } from '../../src/reconcile/check-status.js';
import { createJobStatusClient } from '../../src/smileid/job-status-client.js';
import {
  createUploadClient,
  type PrepUploadRequest,
  type UploadClient,
} from '../../src/smileid/upload-client.js';
import { createStatusStore } from '../../src/store/evidence/status-store.js';
import { eraseUserIdentityData, purgeExpired } from '../../src/store/identity/identity-maintenance.js';
import { createSubmissionStore, type SubmissionStore } from '../../src/store/submissions/submission-store.js';
import { createSubmitJob, RetryableSubmissionError } from '../../src/submit/submit-job.js';
import { createSubmissionSweep } from '../../src/submit/sweep.js';
import {
  createTestApp,
  TEST_API_KEY,
  TEST_PARTNER_ID,
  type TestApp,
  testObjectStorage,
} from '../helpers/app.js';
import { capturingLogger } from '../helpers/logs.js';
import { startSimulator, type TestSimulator } from '../helpers/service.js';
import { DEFAULT_POLICY, silentLogger } from '../helpers/status.js';
import { fakeJpeg } from '../helpers/submissions.js';

/**
 * The submission worker's flow against the simulator, one step at a time: what it does after a crash
 * between the prep upload and the PUT, an expired upload URL, 2215, 2205 and retryable failures.
 */
describe('the submission flow', () => {
  let app: TestApp;
  let simulator: TestSimulator;
  let store: SubmissionStore;

  beforeAll(async () => {
    app = await createTestApp();
    simulator = await startSimulator({ uploadUrlTtlMs: 300 });
    store = createSubmissionStore({ pool: app.db.pool, cipher: app.cipher });
  });
  afterAll(async () => {
    await simulator?.close();
    await app?.close();
  });

  const clientOptions = (apiKey = TEST_API_KEY) => ({
    baseUrl: `${simulator.url}/v1`,
    partnerId: TEST_PARTNER_ID,
    apiKeys: [apiKey],
    timeoutMs: 2000,
  });

  /** The real upload client, with what it was asked recorded and faults injected where a test says. */
  function recordingUploads(
    faults: {
      beforePut?: () => void;
      afterPut?: () => void;
      afterPrep?: () => void | Promise<void>;
      client?: UploadClient;
    } = {},
  ) {
    const client = faults.client ?? createUploadClient(clientOptions());
    const preps: PrepUploadRequest[] = [];
    let puts = 0;
    const uploads: UploadClient = {
      async prepUpload(request) {
        preps.push(request);
        const answer = await client.prepUpload(request);
        await faults.afterPrep?.();
        return answer;
      },
      async upload(url, zip) {
        faults.beforePut?.();
        puts += 1;
        const answer = await client.upload(url, zip);
        faults.afterPut?.();
        return answer;
      },
    };
    return { uploads, preps, puts: () => puts };
  }

  function flow(
    uploads: UploadClient,
    { maxAttempts = 3, metrics = createMetrics({ defaultMetrics: false }) } = {},
  ) {
    return createSubmitJob({
      store,
      uploads,
      jobStatus: createJobStatusClient(clientOptions()),
      // Not an http URL: the simulator starts the job's life without posting callbacks anywhere.
      settings: { partnerId: TEST_PARTNER_ID, callbackUrl: 'test://no-callbacks', maxAttempts },
      pollModel: DEFAULT_POLL_MODEL,
      log: silentLogger,
      metrics,
    });
  }

  async function stored(): Promise<{ jobId: string; content: SubmissionContent }> {
    const jobId = `job-${crypto.randomUUID()}`;
    const content: SubmissionContent = {
      userId: `user-${crypto.randomUUID()}`,
      jobType: 1,
      idInfo: { country: 'NG', idType: 'NIN', idNumber: '12345678901' },
      images: [
        { type: 'selfie', jpeg: fakeJpeg() },
        { type: 'liveness', jpeg: fakeJpeg() },
      ],
      partnerParams: {},
    };
    const now = new Date();
    expect(
      await store.create(jobId, content, contentDigestParts(content), {
        at: now,
        nextAttemptAt: now,
        decision: initialDecision(DEFAULT_POLICY, now),
      }),
    ).toBe('created');
    return { jobId, content };
  }

  const row = async (jobId: string) =>
    (
      await app.db.pool.query(
        `SELECT s.status, s.attempts, s.payload IS NULL AS "payloadGone", s.prepared IS NULL AS "preparedGone",
                s.smile_job_id AS "smileJobId", s.error_code AS "errorCode", j.next_check_at AS "nextCheckAt"
           FROM submissions s JOIN jobs j USING (job_id) WHERE s.job_id = $1`,
        [jobId],
      )
    ).rows[0];

  /** PUTs the simulator received for a job, to any of its upload URLs. */
  const putsReceived = (jobId: string) =>
    [...simulator.state.uploads.values()]
      .filter((upload) => upload.jobId === jobId)
      .reduce((total, upload) => total + upload.puts, 0);

  /** The reconciler's check of one job against the simulator's job_status. */
  const statusCheck = (metrics = createMetrics({ defaultMetrics: false })) =>
    createStatusCheck({
      store: createStatusStore({ pool: app.db.pool, cipher: app.cipher, vault: app.storage.vault }),
      client: createJobStatusClient(clientOptions()),
      log: silentLogger,
      pollModel: DEFAULT_POLL_MODEL,
      policy: DEFAULT_POLICY,
      metrics,
    });

  const crashOnce = () => {
    let crashed = false;
    return () => {
      if (!crashed) {
        crashed = true;
        throw new Error('the worker died here');
      }
    };
  };

  it('uploads a stored submission, deletes its content and makes the job due for its first check', async () => {
    const { jobId } = await stored();
    const recorded = recordingUploads();
    expect(await flow(recorded.uploads).run(jobId)).toBe('uploaded');
    expect(recorded.preps.map((prep) => prep.retry)).toEqual([false]);
    expect(recorded.puts()).toBe(1);
    const after = await row(jobId);
    expect(after).toMatchObject({ status: 'uploaded', attempts: 1, payloadGone: true, preparedGone: true });
    expect(after.smileJobId).toMatch(/^\d+$/);
    expect(after.nextCheckAt).toBeInstanceOf(Date);
    // Running it again does nothing: the submission is done.
    expect(await flow(recorded.uploads).run(jobId)).toBe('done_already');
    expect(recorded.puts()).toBe(1);
  });

  it('resumes with the upload URL it has after a crash between the prep upload and the PUT', async () => {
    const { jobId } = await stored();
    const recorded = recordingUploads({ beforePut: crashOnce() });
    await expect(flow(recorded.uploads).run(jobId)).rejects.toThrow('the worker died here');
    expect(await row(jobId)).toMatchObject({ status: 'uploading', preparedGone: false, payloadGone: false });

    expect(await flow(recorded.uploads).run(jobId)).toBe('uploaded');
    // One prep upload only: the second attempt used the stored URL.
    expect(recorded.preps).toHaveLength(1);
    expect(recorded.puts()).toBe(1);
    expect(await row(jobId)).toMatchObject({ status: 'uploaded', attempts: 2 });
  });

  it('sends a new prep upload with retry: true only once the stored upload URL has expired', async () => {
    const { jobId } = await stored();
    const recorded = recordingUploads({ beforePut: crashOnce() });
    await expect(flow(recorded.uploads).run(jobId)).rejects.toThrow('the worker died here');
    await new Promise((resolve) => setTimeout(resolve, 400)); // past the simulator's 300 ms URL lifetime

    expect(await flow(recorded.uploads).run(jobId)).toBe('uploaded');
    expect(recorded.preps.map((prep) => prep.retry)).toEqual([false, true]);
    const uploads = [...simulator.state.uploads.values()].filter((upload) => upload.jobId === jobId);
    expect(uploads.map((upload) => upload.uploadedAt !== undefined)).toEqual([false, true]);
  });

  it('resolves 2215 through job_status: a job id prepared but never uploaded is prepared again with retry: true', async () => {
    const { jobId } = await stored();
    // The prep upload reached Smile ID, but its answer was lost with the worker.
    const recorded = recordingUploads({ afterPrep: crashOnce() });
    await expect(flow(recorded.uploads).run(jobId)).rejects.toThrow('the worker died here');
    expect(await row(jobId)).toMatchObject({ preparedGone: true });

    expect(await flow(recorded.uploads).run(jobId)).toBe('uploaded');
    expect(recorded.preps.map((prep) => prep.retry)).toEqual([false, false, true]);
    expect(recorded.puts()).toBe(1);
  });

  it('resolves 2215 through job_status: a job Smile ID already has is marked uploaded without sending it again', async () => {
    const { jobId, content } = await stored();
    // Our upload reached Smile ID, and the worker died before recording it (and before the prep's answer).
    const direct = createUploadClient(clientOptions());
    const first = await flow(recordingUploads({ client: direct }).uploads).run(jobId);
    expect(first).toBe('uploaded');
    await app.db.pool.query(
      "UPDATE submissions SET status = 'uploading', prepared = NULL, payload = $2, submitted_at = NULL WHERE job_id = $1",
      [jobId, await sealedPayloadOf(jobId, content)],
    );

    const recorded = recordingUploads();
    expect(await flow(recorded.uploads).run(jobId)).toBe('uploaded');
    expect(recorded.preps.map((prep) => prep.retry)).toEqual([false]);
    expect(recorded.puts()).toBe(0);
    expect(await row(jobId)).toMatchObject({ status: 'uploaded', payloadGone: true });
  });

  it('asks job_status before a resumed attempt sends the zip again: a zip Smile ID got, whose answer was lost with the worker, is not PUT twice', async () => {
    const { jobId } = await stored();
    // The PUT reached Smile ID, but the worker died before it heard so.
    const recorded = recordingUploads({ afterPut: crashOnce() });
    await expect(flow(recorded.uploads).run(jobId)).rejects.toThrow('the worker died here');
    expect(await row(jobId)).toMatchObject({ status: 'uploading', preparedGone: false });
    const smileJobId = (await row(jobId)).smileJobId;

    expect(await flow(recorded.uploads).run(jobId)).toBe('uploaded');
    expect(recorded.preps).toHaveLength(1);
    expect(recorded.puts()).toBe(1);
    expect(putsReceived(jobId)).toBe(1);
    expect(await row(jobId)).toMatchObject({
      status: 'uploaded',
      payloadGone: true,
      smileJobId,
      errorCode: null,
    });
  });

  it('marks a submission uploaded in the transaction that confirms its job, once job_status shows Smile ID has the zip', async () => {
    const { jobId } = await stored();
    const recorded = recordingUploads({ afterPut: crashOnce() });
    await expect(flow(recorded.uploads).run(jobId)).rejects.toThrow('the worker died here');
    expect(await row(jobId)).toMatchObject({ status: 'uploading' });

    // The job is confirmed (a callback asked for it, or a poll) before any worker resumes the attempt.
    const metrics = createMetrics({ defaultMetrics: false });
    expect(await statusCheck(metrics).run(jobId)).toBe('applied');
    const { rows } = await app.db.pool.query(
      `SELECT s.status, j.confirmed, j.state, s.payload IS NULL AS "payloadGone",
              s.xmin::text = j.xmin::text AS "oneTransaction"
         FROM submissions s JOIN jobs j USING (job_id) WHERE s.job_id = $1`,
      [jobId],
    );
    expect(rows[0]).toEqual({
      status: 'uploaded',
      confirmed: true,
      state: 'approved',
      payloadGone: true,
      oneTransaction: true,
    });
    expect((await metrics.submissions.get()).values).toContainEqual(
      expect.objectContaining({ labels: { event: 'uploaded' }, value: 1 }),
    );

    // The attempt the dead worker left behind then finds nothing to do.
    expect(await flow(recorded.uploads).run(jobId)).toBe('done_already');
    expect(putsReceived(jobId)).toBe(1);
  });

  it('leaves a submission as it is when job_status says no zip arrived yet', async () => {
    const { jobId } = await stored();
    const recorded = recordingUploads({ beforePut: crashOnce() });
    await expect(flow(recorded.uploads).run(jobId)).rejects.toThrow('the worker died here');
    await statusCheck().run(jobId);
    expect(await row(jobId)).toMatchObject({ status: 'uploading', preparedGone: false, payloadGone: false });

    expect(await flow(recorded.uploads).run(jobId)).toBe('uploaded');
    expect(putsReceived(jobId)).toBe(1);
  });

  it('resolves a 2215 to retry: true through job_status: a zip Smile ID got, whose answer was lost with an expired URL, is not failed', async () => {
    const { jobId } = await stored();
    // The PUT reached Smile ID, but the worker died before it heard so; then the URL expired.
    const recorded = recordingUploads({ afterPut: crashOnce() });
    await expect(flow(recorded.uploads).run(jobId)).rejects.toThrow('the worker died here');
    await new Promise((resolve) => setTimeout(resolve, 400)); // past the simulator's 300 ms URL lifetime
    // job_status cannot answer the resumed attempt's question, so it sends the zip to its expired URL.
    await simulator.control(`/jobs/${jobId}/faults`, { failNext: 1 });

    expect(await flow(recorded.uploads).run(jobId)).toBe('uploaded');
    // The expired URL got a prep upload with retry: true, which Smile ID refused with 2215: it has the zip.
    expect(recorded.preps.map((prep) => prep.retry)).toEqual([false, true]);
    expect(recorded.puts()).toBe(2);
    expect(await row(jobId)).toMatchObject({ status: 'uploaded', payloadGone: true, errorCode: null });
  });

  it('stops at 2205 (our key is wrong): failed at once, counted, never retried', async () => {
    const { jobId } = await stored();
    const metrics = createMetrics({ defaultMetrics: false });
    const recorded = recordingUploads({ client: createUploadClient(clientOptions('not-our-key')) });
    expect(await flow(recorded.uploads, { metrics }).run(jobId)).toBe('failed');
    expect(await row(jobId)).toMatchObject({
      status: 'failed',
      attempts: 1,
      errorCode: '2205',
      payloadGone: true,
    });
    expect((await metrics.submissions.get()).values).toContainEqual(
      expect.objectContaining({ labels: { event: 'failed' }, value: 1 }),
    );
    expect((await metrics.submissionCalls.get()).values).toContainEqual(
      expect.objectContaining({ labels: { call: 'prep_upload', result: 'unauthorized' }, value: 1 }),
    );
    expect(recorded.puts()).toBe(0);
  });

  it('writes every line of a run, its failure too, with the queued job’s logger, naming queue and job', async () => {
    const { jobId } = await stored();
    const { logger, logs } = capturingLogger('info');
    const jobLog = logger.child({
      queue: 'submissions',
      job: 'submit-job',
      queuedJobId: 'submit-under-test',
    });
    const recorded = recordingUploads({ client: createUploadClient(clientOptions('not-our-key')) });
    expect(await flow(recorded.uploads).run(jobId, { log: jobLog })).toBe('failed');
    const lines = logs().trim().split('\n');
    expect(lines.map((line) => JSON.parse(line).msg)).toEqual([
      'Smile ID refused our prep upload signature: check SMILE_PARTNER_ID and SMILE_API_KEYS',
      'submission failed: Smile ID refused the signature: the partner id or API key is wrong',
    ]);
    for (const line of lines) {
      expect(JSON.parse(line)).toMatchObject({
        queue: 'submissions',
        queuedJobId: 'submit-under-test',
        jobId,
      });
    }
  });

  it('retries 5xx answers with the error recorded, and fails once its attempts are spent', async () => {
    const { jobId } = await stored();
    let failures = 1;
    const flaky: typeof fetch = async (input, init) =>
      failures-- > 0 ? new Response('{"code":"2201"}', { status: 503 }) : fetch(input, init);
    const client = createUploadClient({ ...clientOptions(), fetch: flaky });
    const submit = flow(recordingUploads({ client }).uploads, { maxAttempts: 2 });
    await expect(submit.run(jobId)).rejects.toBeInstanceOf(RetryableSubmissionError);
    expect(await row(jobId)).toMatchObject({ status: 'uploading', errorCode: '2201', payloadGone: false });
    expect(await submit.run(jobId)).toBe('uploaded');
    expect(await row(jobId)).toMatchObject({ status: 'uploaded', attempts: 2, errorCode: null });

    const { jobId: failing } = await stored();
    failures = 10;
    await expect(submit.run(failing)).rejects.toBeInstanceOf(RetryableSubmissionError);
    expect(await submit.run(failing)).toBe('failed');
    expect(await row(failing)).toMatchObject({
      status: 'failed',
      attempts: 2,
      errorCode: '2201',
      payloadGone: true,
    });
  });

  it('fails a submission whose attempts ended in crashes once they exceed the limit', async () => {
    const { jobId } = await stored();
    const recorded = recordingUploads({
      beforePut: () => {
        throw new Error('crash');
      },
    });
    const submit = flow(recorded.uploads, { maxAttempts: 2 });
    await expect(submit.run(jobId)).rejects.toThrow('crash');
    await expect(submit.run(jobId)).rejects.toThrow('crash');
    expect(await submit.run(jobId)).toBe('failed');
    expect(await row(jobId)).toMatchObject({ status: 'failed', errorCode: 'ATTEMPTS_EXHAUSTED' });
  });

  it('sweeps submissions that no worker holds past their next attempt into the queue, once', async () => {
    const { jobId } = await stored();
    const added: string[] = [];
    const producer = {
      addBulk: async (_job: unknown, jobs: readonly { data: { jobId: string } }[]) => {
        added.push(...jobs.map((job) => job.data.jobId));
      },
    };
    const sweep = createSubmissionSweep({
      store,
      producer,
      batchSize: 1000,
      now: () => new Date(Date.now() + 1000),
    });
    await sweep();
    expect(added).toContain(jobId);
    added.length = 0;
    await sweep();
    expect(added).not.toContain(jobId);
  });

  it('sends nothing of a submission erased while its prep upload was in flight', async () => {
    const { jobId, content } = await stored();
    const eraseOnce = async () => {
      await eraseUserIdentityData(app.db.pool, app.cipher, app.storage.vault, {
        userId: content.userId,
        at: new Date(),
        fingerprint: 'test-token',
        route: 'DELETE /v1/users/:userId/identity-data',
        requestId: 'req-erase',
      });
    };
    const recorded = recordingUploads({ afterPrep: eraseOnce });
    expect(await flow(recorded.uploads).run(jobId)).toBe('done_already');
    expect(recorded.puts()).toBe(0);
    expect(await row(jobId)).toMatchObject({
      status: 'failed',
      errorCode: 'ERASED',
      payloadGone: true,
      preparedGone: true,
    });
  });

  it('erases a submission past retention like any identity data: a pending one fails, saying why', async () => {
    const { jobId } = await stored();
    const { jobId: done } = await stored();
    expect(await flow(recordingUploads().uploads).run(done)).toBe('uploaded');
    const purged = await purgeExpired(app.db.pool, app.storage.vault, new Date(Date.now() + 60_000), 1000);
    expect(purged.submissions).toBeGreaterThanOrEqual(1);
    expect(await row(jobId)).toMatchObject({ status: 'failed', errorCode: 'ERASED', payloadGone: true });
    expect(await row(done)).toMatchObject({ status: 'uploaded', errorCode: null });
    expect(await flow(recordingUploads().uploads).run(jobId)).toBe('done_already');
  });

  it('moves sealed submissions to the newest key with the rest of the identity data', async () => {
    const { jobId, content } = await stored();
    const { reencryptAll } = await import('../../src/store/identity/identity-maintenance.js');
    const { createFieldCipher, parseKeyring } = await import('../../src/security/field-cipher.js');
    const newKey = `k-new:${Buffer.alloc(32, 7).toString('base64')}`;
    const rotated = createFieldCipher(parseKeyring([newKey, ...app.config.DATA_ENCRYPTION_KEYS]));
    await reencryptAll(app.db.pool, rotated, testObjectStorage(app.config, rotated, app.db).vault);
    const { rows } = await app.db.pool.query(
      'SELECT sealed_key_id(payload) AS key FROM submissions WHERE job_id = $1',
      [jobId],
    );
    expect(rows[0].key).toBe('k-new');
    const loaded = await createSubmissionStore({ pool: app.db.pool, cipher: rotated }).load(jobId);
    expect(loaded?.content?.images.map((image) => image.jpeg.equals(content.images[0]!.jpeg))[0]).toBe(true);
  });

  async function sealedPayloadOf(jobId: string, content: SubmissionContent) {
    const { sealContext } = await import('../../src/security/field-cipher.js');
    return app.cipher.sealJson(
      {
        ...content,
        images: content.images.map(({ type, jpeg }) => ({ type, jpegBase64: jpeg.toString('base64') })),
      },
      sealContext.submissionPayload(jobId),
    );
  }
});
