import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, newWebhookSecret, type Receiver, startReceiver } from '../helpers/receiver.js';
import { startService, startSimulator, type TestService, type TestSimulator } from '../helpers/service.js';

/** Longer than a delivery to the hanging endpoint may take: its attempts hold their slots this long. */
const TIMEOUT_MS = 10_000;
/** Generous: the healthy endpoint's messages take a fraction of a second; sharing slots, the timeout. */
const MAX_HEALTHY_DELAY_MS = 6000;
const JOBS = 12;

/**
 * One webhook endpoint that hangs until every attempt times out must not delay another one: each
 * endpoint has deliveries in flight of its own, and a failing one backs off on its own.
 */
describe('adversarial: a webhook endpoint that hangs', () => {
  let simulator: TestSimulator;
  let service: TestService;
  let hanging: Receiver;
  let healthy: Receiver;

  beforeAll(async () => {
    simulator = await startSimulator();
    const secrets = [newWebhookSecret(), newWebhookSecret()] as const;
    hanging = await startReceiver(secrets[0]);
    hanging.answer([], 'hold');
    healthy = await startReceiver(secrets[1]);
    service = await startService(simulator.url, {
      // The hanging endpoint first: its deliveries are made, and queued, before the healthy one's.
      NOTIFY_WEBHOOK_URLS: `${hanging.url},${healthy.url}`,
      NOTIFY_WEBHOOK_SECRETS: secrets.join(','),
      NOTIFY_TIMEOUT_MS: String(TIMEOUT_MS),
      NOTIFY_CONCURRENCY: '4',
      POLL_SILENT_FIRST_MS: '600000',
      POLL_MAX_INTERVAL_MS: '600000',
    });
    await eventually(
      async () =>
        (
          await service.deps.db.pool.query('SELECT url FROM webhook_endpoints WHERE url = ANY($1)', [
            [hanging.url, healthy.url],
          ])
        ).rowCount,
      (count) => count === 2,
    );
  });
  afterAll(async () => {
    await service?.close();
    await hanging?.close();
    await healthy?.close();
    await simulator?.close();
  });

  it('delays no message to a healthy endpoint while another endpoint’s attempts hang until they time out', async () => {
    const registered = new Map<string, number>();
    for (let index = 0; index < JOBS; index += 1) {
      const jobId = `job-${randomUUID()}`;
      expect((await service.api('POST', '/v1/jobs', { jobId, userId: `user-${jobId}` })).status).toBe(201);
      registered.set(jobId, Date.now());
    }
    const arrived = await eventually(
      () => healthy.received.filter((message) => registered.has(String(message.data.jobId))),
      (messages) => messages.length >= JOBS,
      MAX_HEALTHY_DELAY_MS * 3,
    );
    const delays = arrived.map((message) => message.at - registered.get(String(message.data.jobId))!);
    expect(Math.max(...delays)).toBeLessThan(MAX_HEALTHY_DELAY_MS);
    // The hanging endpoint is tried too, holding slots of its own (on a busy machine its first attempt may
    // reach it only after the healthy endpoint has had everything).
    const tried = await eventually(
      () => hanging.received.filter((message) => registered.has(String(message.data.jobId))),
      (messages) => messages.length > 0,
      TIMEOUT_MS,
    );
    expect(tried.length).toBeGreaterThan(0);
  }, 60_000);
});
