import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resultCallback, simulatedJob } from '../../src/simulator/callbacks.js';
import { signed } from '../helpers/callbacks.js';
import { freePort, type ServiceProcess, spawnRedis, waitForOutput } from '../helpers/processes.js';
import {
  eventually,
  startService,
  startSimulator,
  type TestService,
  type TestSimulator,
} from '../helpers/service.js';

describe('a Redis outage', () => {
  let sim: TestSimulator;
  let redis: ServiceProcess;
  let port: number;
  let service: TestService;
  beforeAll(async () => {
    port = await freePort();
    redis = spawnRedis(port);
    await waitForOutput(redis, 'Ready to accept connections');
    sim = await startSimulator();
    service = await startService(sim.url, { REDIS_URL: `redis://127.0.0.1:${port}` });
  });
  afterAll(async () => {
    await service.close();
    await sim.close();
    await redis.stop();
  });

  it('loses nothing: intake keeps storing, and the sweeper catches up once Redis is back, empty', {
    timeout: 60_000,
  }, async () => {
    await redis.stop('SIGKILL');

    const jobs = Array.from({ length: 5 }, () => simulatedJob());
    for (const job of jobs) {
      await sim.control('/jobs', { jobId: job.jobId, userId: job.userId, life: 'rejected' });
    }
    // Callbacks claiming approval arrive while Redis is down; Smile ID's truth is a rejection.
    for (const job of jobs.slice(0, 3)) {
      const response = await fetch(`${service.baseUrl}/callbacks/smile-id`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(signed(resultCallback(job, 'approved'))),
      });
      expect(response.status).toBe(200);
      expect(((await response.json()) as { status: string }).status).toBe('accepted');
    }
    for (const job of jobs.slice(3)) {
      expect((await service.api('POST', '/v1/jobs', { jobId: job.jobId, userId: job.userId })).status).toBe(
        201,
      );
    }
    const queued = await service.api('POST', `/v1/jobs/${jobs[3]!.jobId}/reconcile`);
    expect(queued).toMatchObject({ status: 202, body: { status: 'scheduled' } });
    expect((await service.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);

    // Redis returns with none of its data: no queues, no job scheduler.
    redis = spawnRedis(port);
    await waitForOutput(redis, 'Ready to accept connections');

    const settled = await eventually(async () => {
      const { rows } = await service.deps.db.pool.query<{ count: number }>(
        "SELECT count(*)::int AS count FROM jobs WHERE job_id = ANY($1) AND confirmed AND state = 'rejected'",
        [jobs.map((job) => job.jobId)],
      );
      return rows[0]!.count === jobs.length;
    }, 30_000);
    expect(settled).toBe(true);
    expect((await service.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);

    // The outage in the logs: one line when Redis went away, one when it came back, none in between.
    const address = `127.0.0.1:${port}`;
    const said = () =>
      service
        .logs()
        .split('\n')
        .filter((line) => line.includes('"dependency":"redis"'))
        .map((line) => JSON.parse(line).msg as string);
    // Each connection comes back on its own reconnect schedule: the line waits for the last one.
    await eventually(async () => said().some((line) => line.includes('reachable again')), 10_000);
    expect(said()).toEqual([
      expect.stringMatching(new RegExp(`^Redis at ${address} is unreachable`)),
      expect.stringMatching(new RegExp(`^Redis at ${address} is reachable again after \\d+ s$`)),
    ]);
  });
});
