import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idInfoCallback, resultCallback, simulatedJob } from '../../src/simulator/callbacks.js';
import { signed } from '../helpers/callbacks.js';
import { startService, startSimulator, type TestService, type TestSimulator } from '../helpers/service.js';
import { submissionRequest } from '../helpers/submissions.js';

/** Every value stored under `prefix`, whatever the key's type, as one string. */
async function dumpKeys(redis: Redis, prefix: string): Promise<{ keys: string[]; text: string }> {
  const keys = await redis.keys(`${prefix}*`);
  const values = await Promise.all(
    keys.map(async (key) => {
      switch (await redis.type(key)) {
        case 'string':
          return redis.get(key);
        case 'hash':
          return JSON.stringify(await redis.hgetall(key));
        case 'list':
          return JSON.stringify(await redis.lrange(key, '0', '-1'));
        case 'set':
          return JSON.stringify(await redis.smembers(key));
        case 'zset':
          return JSON.stringify(await redis.zrange(key, '0', '-1'));
        case 'stream':
          return JSON.stringify(await redis.xrange(key, '-', '+'));
        default:
          return '';
      }
    }),
  );
  return { keys, text: keys.join(' ') + values.join(' ') };
}

describe('what Redis holds', () => {
  let sim: TestSimulator;
  let service: TestService;
  let redis: Redis;
  beforeAll(async () => {
    sim = await startSimulator();
    service = await startService(sim.url, { RECONCILE_CONCURRENCY: '1' });
    redis = new Redis(service.config.REDIS_URL);
  });
  afterAll(async () => {
    redis.disconnect();
    await service.close();
    await sim.close();
  });

  it('holds job ids only: no name, ID number, date of birth, phone number or photo', async () => {
    // Answers slower than the service's Smile ID timeout: no check can finish, so every job's checks are
    // still queued, running or waiting to retry while Redis is read, however slow this machine is.
    await sim.control('/faults', { latencyMs: 30_000 });
    const jobs = Array.from({ length: 4 }, () => simulatedJob());
    for (const job of jobs) {
      await sim.control('/jobs', { jobId: job.jobId, userId: job.userId, life: 'approved' });
      for (const body of [idInfoCallback(job), resultCallback(job)]) {
        await fetch(`${service.baseUrl}/callbacks/smile-id`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(signed(body)),
        });
      }
      await service.api('POST', `/v1/jobs/${job.jobId}/reconcile`);
    }
    const { keys, text } = await dumpKeys(redis, `${service.config.REDIS_PREFIX}:`);
    expect(keys.length).toBeGreaterThan(0);
    for (const job of jobs) {
      expect(text).toContain(job.jobId);
      for (const value of [job.fullName, job.idNumber, job.dob, job.phoneNumber, job.userId]) {
        expect(text).not.toContain(value);
      }
    }
  });

  it('holds a submission as its job id only: no image, name or ID number', async () => {
    // An API process alone: the submission stays queued in Redis for us to read.
    const api = await startService(sim.url, { ROLE: 'api' });
    const request = submissionRequest({
      userId: 'user-who-submitted',
      idInfo: {
        country: 'NG',
        idType: 'NIN',
        idNumber: '55555555555',
        firstName: 'Zainab',
        lastName: 'Okafor',
      },
    });
    try {
      expect((await api.api('POST', '/v1/submissions', request)).status).toBe(202);
      const { text } = await dumpKeys(redis, `${api.config.REDIS_PREFIX}:`);
      expect(text).toContain(request.jobId);
      const secrets = [
        'user-who-submitted',
        '55555555555',
        'Zainab',
        'Okafor',
        request.images[0]!.jpegBase64,
      ];
      for (const value of secrets) expect(text).not.toContain(value);
    } finally {
      await api.close();
    }
  });
});
