import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDelivery } from '../../src/notify/deliver.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { newWebhookSecret, type Receiver, startReceiver } from '../helpers/receiver.js';
import { deliveryRows, jobDeliveries } from '../helpers/webhook-deliveries.js';

/**
 * A queued delivery goes on with its endpoint's next due ones in the same queued job, noting in the job
 * which one it is on (a worker taking the job over after a crash resends that one), and queues the rest
 * once its budget is spent.
 */
describe('a delivery’s queued job', () => {
  const secret = newWebhookSecret();
  let t: TestApp;
  let receiver: Receiver;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterEach(async () => {
    await receiver?.close();
  });
  afterAll(async () => {
    await t?.close();
  });

  async function endpointWithJobs(jobs: number) {
    receiver = await startReceiver(secret);
    const made = [];
    for (let index = 0; index < jobs; index += 1) made.push(await jobDeliveries(t.db.pool, receiver.url));
    const first = made[0]!;
    const ids = made.map((job) => job.ids[0]!);
    // As the sweep hands them out: the first leased, the rest due.
    const claimed = await first.store.claimDue(
      new Date(),
      new Date(Date.now() + 60_000),
      10,
      1,
      first.endpoint.id,
    );
    expect(claimed).toEqual([ids[0]]);
    const queued: string[] = [];
    const flow = createDelivery({
      store: first.store,
      secrets: new Map([[receiver.url, secret]]),
      timeoutMs: 5000,
      retryDelayMs: 100,
      retryWindowMs: 3_600_000,
      perEndpoint: 1,
      enqueue: async (next) => {
        queued.push(...next);
      },
      log: t.app.log,
    });
    return { made, ids, flow, queued };
  }

  it('goes on with the endpoint’s next due deliveries, noting each, with one in flight at a time', async () => {
    const { made, ids, flow, queued } = await endpointWithJobs(3);
    const noted: string[] = [];
    expect(await flow.run(ids[0]!, async (id) => void noted.push(id))).toBe('delivered');
    expect(noted).toEqual(ids.slice(1));
    expect(queued).toEqual([]);
    for (const job of made) {
      expect(await deliveryRows(t.db.pool, job.jobId)).toMatchObject([
        { status: 'delivered', leasedUntil: null },
      ]);
    }
    expect(receiver.received.map((message) => message.data.jobId)).toEqual(made.map((job) => job.jobId));
  });

  it('stops at an endpoint that stopped answering, and leaves its next deliveries for after its backoff', async () => {
    const { made, ids, flow } = await endpointWithJobs(2);
    receiver.script(made[0]!.jobId, [503]);
    const noted: string[] = [];
    expect(await flow.run(ids[0]!, async (id) => void noted.push(id))).toBe('retry');
    expect(noted).toEqual([]);
    expect(await deliveryRows(t.db.pool, made[1]!.jobId)).toMatchObject([{ status: 'pending', attempts: 0 }]);
  });

  it('writes what became of a delivery with the queued job’s logger, naming queue and job', async () => {
    const { made, ids, flow } = await endpointWithJobs(1);
    receiver.script(made[0]!.jobId, [410]);
    const jobLog = t.app.log.child({ queue: 'notifications', queuedJobId: 'notify-under-test' });
    expect(await flow.run(ids[0]!, undefined, jobLog)).toBe('gone');
    const gone = t
      .logs()
      .split('\n')
      .filter((line) => line.includes('answered 410 Gone'));
    expect(gone).toHaveLength(1);
    expect(JSON.parse(gone[0]!)).toMatchObject({ queue: 'notifications', queuedJobId: 'notify-under-test' });
  });

  it(`queues the endpoint's next delivery rather than go on past its budget`, async () => {
    const { made, ids, flow, queued } = await endpointWithJobs(2);
    // The first answer takes the whole budget.
    receiver.script(made[0]!.jobId, [{ status: 200, afterMs: 2100 }]);
    expect(await flow.run(ids[0]!)).toBe('delivered');
    expect(queued).toEqual([ids[1]]);
    expect(await deliveryRows(t.db.pool, made[1]!.jobId)).toMatchObject([{ status: 'pending' }]);
  });
});
