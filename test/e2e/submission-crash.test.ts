import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TEST_API_KEY, TEST_PARTNER_ID } from '../helpers/app.js';
import { type ServiceProcess, spawnService, waitForOutput } from '../helpers/processes.js';
import {
  type ApiBody,
  eventually,
  startService,
  startSimulator,
  type TestService,
  type TestSimulator,
} from '../helpers/service.js';
import { submissionRequest } from '../helpers/submissions.js';

/** How long the simulated bucket takes to answer a zip's PUT: the worker is killed in the middle. */
const UPLOAD_LATENCY_MS = 5000;
const KILLED_INTO_PUT_MS = 2300;

/**
 * A worker process killed with SIGKILL 2.3 s into the zip's PUT, which Smile ID (the simulator's slow
 * bucket) then receives all the same, and started again. The API runs in this process and stays up, so
 * the job's callbacks keep arriving while no worker runs.
 */
describe('a worker killed during the zip PUT', () => {
  let sim: TestSimulator;
  let service: TestService;
  let worker: ServiceProcess | undefined;
  let workerEnv: Record<string, string>;
  beforeAll(async () => {
    sim = await startSimulator();
    const prefix = `test-${randomBytes(4).toString('hex')}`;
    service = await startService(sim.url, { ROLE: 'api', REDIS_PREFIX: prefix });
    workerEnv = {
      ROLE: 'worker',
      DATABASE_URL: inject('databaseUrl'),
      REDIS_URL: inject('redisUrl'),
      REDIS_PREFIX: prefix,
      SMILE_API_BASE_URL: `${sim.url}/v1`,
      SMILE_PARTNER_ID: TEST_PARTNER_ID,
      SMILE_API_KEYS: TEST_API_KEY,
      PUBLIC_CALLBACK_URL: service.config.PUBLIC_CALLBACK_URL!,
      RECONCILE_SWEEP_INTERVAL_MS: '200',
      POLL_SILENT_FIRST_MS: '1000',
      SMILE_API_RATE_LIMIT_PER_SECOND: '1000',
      LOG_LEVEL: 'info',
    };
  });
  afterAll(async () => {
    await worker?.stop('SIGKILL');
    await service?.close();
    await sim?.close();
  });

  const putsReceived = (jobId: string) =>
    [...sim.state.uploads.values()]
      .filter((upload) => upload.jobId === jobId)
      .reduce((total, upload) => total + upload.puts, 0);

  it('never shows a confirmed job uploading, PUTs the zip once, and resumes within seconds', {
    timeout: 120_000,
  }, async () => {
    worker = spawnService(workerEnv);
    await waitForOutput(worker, 'service started', 60_000);
    await sim.control('/faults', { uploadLatencyMs: UPLOAD_LATENCY_MS });

    // One job whose callbacks reach the API while its worker is dead, one whose callbacks are lost:
    // job_status is all that can tell the restarted worker that Smile ID has its zip.
    const withCallbacks = submissionRequest();
    const silent = submissionRequest({ partnerParams: { sim_callbacks: 'none' } });
    const jobs = [withCallbacks, silent];
    for (const request of jobs) {
      expect((await service.api('POST', '/v1/submissions', request)).status).toBe(202);
    }
    const putsStarted = await eventually(
      async () => jobs.every((request) => putsReceived(request.jobId) === 1),
      30_000,
      20,
    );
    expect(putsStarted).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, KILLED_INTO_PUT_MS));
    await worker.stop('SIGKILL');
    const killedAt = Date.now();

    // Watched from the API as a consumer would, every 100 ms, from the kill until both are settled.
    const seen = new Map<string, ApiBody>();
    const confirmedWhileUploading: string[] = [];
    const uploadedAfterMs = new Map<string, number>();
    let watching = true;
    const watch = (async () => {
      while (watching) {
        for (const request of jobs) {
          const { body } = await service.api('GET', `/v1/jobs/${request.jobId}`);
          seen.set(request.jobId, body);
          if (body.confirmed && body.submission?.status !== 'uploaded') {
            confirmedWhileUploading.push(`${request.jobId}: ${body.submission?.status}`);
          }
          if (body.submission?.status === 'uploaded' && !uploadedAfterMs.has(request.jobId)) {
            uploadedAfterMs.set(request.jobId, Date.now() - killedAt);
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();

    worker = spawnService(workerEnv);
    try {
      await waitForOutput(worker, 'service started', 60_000);
      // Generous: a resume that took a minute would be a stall, not a slow machine.
      const settled = await eventually(
        async () =>
          jobs.every((request) => {
            const job = seen.get(request.jobId);
            return job?.confirmed === true && job.isFinal === true && job.submission?.status === 'uploaded';
          }),
        60_000,
      );
      expect(settled, JSON.stringify([...seen.values()].map((job) => job.submission))).toBe(true);
    } finally {
      watching = false;
      await watch;
    }

    expect(confirmedWhileUploading).toEqual([]);
    expect(jobs.map((request) => putsReceived(request.jobId))).toEqual([1, 1]);
    console.info(
      `after the SIGKILL: submission uploaded in ${uploadedAfterMs.get(withCallbacks.jobId)} ms (callbacks ` +
        `arriving), ${uploadedAfterMs.get(silent.jobId)} ms (callbacks lost, the resumed attempt asking job_status)`,
    );
  });
});
