import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { catalog, QUEUES } from '../../src/queues/catalog.js';
import { createProducer } from '../../src/queues/producer.js';
import { redisOutages } from '../../src/queues/redis.js';
import { silentLogger } from '../helpers/status.js';

/** The producer on real Redis, under a prefix of its own. */
describe('the producer', () => {
  const prefix = `test-producer-${randomBytes(4).toString('hex')}`;
  const redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
  const producer = createProducer({
    connection: redis,
    prefix,
    settings: {
      checks: { attempts: 4, retryDelayMs: 250 },
      submissions: { attempts: 6, retryDelayMs: 1000 },
    },
    outages: redisOutages(inject('redisUrl'), silentLogger),
    open: [QUEUES.statusChecks, QUEUES.submissions],
  });
  afterAll(async () => {
    for (const queue of producer.queues) await queue.obliterate({ force: true });
    await producer.close();
    redis.disconnect();
  });

  it('queues a job under its entry’s id and options, once however often it is added', async () => {
    await producer.add(catalog.submitJob, { jobId: 'job:1' });
    await producer.addBulk(catalog.submitJob, [{ data: { jobId: 'job:1' } }, { data: { jobId: 'job:2' } }]);
    const queue = producer.queue(QUEUES.submissions);
    expect(await queue.count()).toBe(2);
    const job = await queue.getJob(catalog.submitJob.jobId({ jobId: 'job:1' }, {}));
    expect(job?.id).toMatch(/^submit-[0-9a-f]{40}$/);
    expect(job).toMatchObject({
      name: 'submit-job',
      data: { jobId: 'job:1' },
      opts: {
        attempts: 6,
        backoff: { type: 'exponential', delay: 1000 },
        removeOnComplete: true,
        removeOnFail: true,
      },
    });
  });

  it('queues a confirmation beside a blind poll of the same job, with the priority asked', async () => {
    await producer.addBulk(catalog.checkStatus, [
      { data: { jobId: 'job-3', queuedAt: 1 }, options: { priority: 7 } },
      { data: { jobId: 'job-3', queuedAt: 1 }, options: { confirms: true } },
    ]);
    const queue = producer.queue(QUEUES.statusChecks);
    const poll = await queue.getJob(catalog.checkStatus.jobId({ jobId: 'job-3' }, {}));
    const confirmation = await queue.getJob(
      catalog.checkStatus.jobId({ jobId: 'job-3' }, { confirms: true }),
    );
    expect(poll?.id).toMatch(/^check-/);
    expect(poll?.opts).toMatchObject({ priority: 7, attempts: 4 });
    expect(confirmation?.id).toMatch(/^confirm-/);
    expect(confirmation?.opts.priority ?? 0).toBe(0);
  });

  it('refuses data its entry’s schema refuses, before anything reaches Redis', async () => {
    const before = await producer.count(QUEUES.statusChecks);
    const refused = producer.add(
      catalog.checkStatus,
      // @ts-expect-error a field the schema does not know: identity data must never ride along
      { jobId: 'job-4', idNumber: '12345678' },
    );
    await expect(refused).rejects.toThrow('idNumber');
    await expect(producer.add(catalog.checkStatus, { jobId: '' })).rejects.toThrow();
    expect(await producer.count(QUEUES.statusChecks)).toBe(before);
  });

  it('takes, at compile time, only the entries of the queues it was made for', async () => {
    const apiProducer = createProducer({
      connection: redis,
      prefix,
      settings: { checks: { attempts: 1, retryDelayMs: 1 }, submissions: { attempts: 1, retryDelayMs: 1 } },
      outages: redisOutages(inject('redisUrl'), silentLogger),
      open: [QUEUES.statusChecks],
    });
    // Never called: tsc refuses the line without its expectation.
    const wrongQueue = () =>
      // @ts-expect-error deliveries go to the notifications queue, which this producer does not take
      apiProducer.add(catalog.deliverNotification, { deliveryId: '1' });
    expect(wrongQueue).toBeTypeOf('function');
    expect(apiProducer.queues.map((queue) => queue.name)).toEqual(['status-checks']);
    await apiProducer.close();
  });
});
