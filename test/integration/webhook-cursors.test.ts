import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, newWebhookSecret, type Receiver, startReceiver } from '../helpers/receiver.js';
import { startService, startSimulator, type TestService, type TestSimulator } from '../helpers/service.js';

/**
 * The feed cursor a webhook carries is the one GET /v1/changes issues: a consumer that hears of a change
 * by webhook can read the feed on from it. The service as main.ts composes it: the worker signs the
 * cursors it puts in messages, the API checks them.
 */
describe('the feed cursor in webhooks', () => {
  const secret = newWebhookSecret();
  let simulator: TestSimulator;
  let receiver: Receiver;
  let service: TestService;

  beforeAll(async () => {
    simulator = await startSimulator();
    receiver = await startReceiver(secret);
    service = await startService(simulator.url, {
      NOTIFY_WEBHOOK_URLS: receiver.url,
      NOTIFY_WEBHOOK_SECRETS: secret,
      // No job_status check may change the job meanwhile.
      POLL_SILENT_FIRST_MS: '600000',
      POLL_MAX_INTERVAL_MS: '600000',
    });
    await eventually(
      async () => JSON.stringify((await service.admin('GET', '/v1/notifications/endpoints')).body),
      (body) => body.includes(receiver.url),
    );
  });
  afterAll(async () => {
    await service?.close();
    await receiver?.close();
    await simulator?.close();
  });

  it('is accepted by GET /v1/changes?after=, which then lists what came after that change', async () => {
    const jobId = `job-${randomUUID()}`;
    expect((await service.api('POST', '/v1/jobs', { jobId, userId: `user-${jobId}` })).status).toBe(201);
    await service.deps.db.pool.query("UPDATE jobs SET state = 'provisional' WHERE job_id = $1", [jobId]);
    const [first] = await eventually(
      () => receiver.received.filter((message) => message.data.jobId === jobId),
      (messages) => messages.length >= 2,
    );
    expect(first!.verified).toBe(true);
    const cursor = first!.data.cursor as string;

    // Other tests' changes may come between: read on until the job's next change.
    const ours = await eventually(
      async () => {
        const seen: { jobId: string; toState: string }[] = [];
        let after = cursor;
        for (let page = 0; page < 20; page += 1) {
          const response = await service.api('GET', `/v1/changes?after=${after}&limit=1000`);
          expect(response.status).toBe(200);
          const body = response.body as unknown as { items: typeof seen; nextCursor: string };
          seen.push(...body.items);
          after = body.nextCursor;
          if (body.items.length < 1000) break;
        }
        return seen.filter((item) => item.jobId === jobId).map((item) => item.toState);
      },
      (states) => states.length > 0,
    );
    // The registration was the message's change: after it, the job's next change, not that one again.
    expect(ours).toEqual(['provisional']);
  });
});
