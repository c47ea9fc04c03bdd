import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TEST_API_KEY, TEST_PARTNER_ID } from '../helpers/app.js';
import { createScratchDatabase, type ScratchDatabase } from '../helpers/database.js';
import { spawnService, waitForOutput } from '../helpers/processes.js';
import {
  type Answer,
  eventually,
  newWebhookSecret,
  type Receiver,
  startReceiver,
} from '../helpers/receiver.js';
import { startService, startSimulator, type TestService, type TestSimulator } from '../helpers/service.js';
import { submissionRequest } from '../helpers/submissions.js';

/**
 * Signed webhooks to an internal endpoint, received by a real HTTP server that verifies each with the
 * `standardwebhooks` library: what it gets, in what order, and what happens when it fails, is slow,
 * goes away, says 410, or the worker delivering to it is killed.
 */
describe('webhooks to internal services', () => {
  const secret = newWebhookSecret();
  // A database of its own: the tests read gauges that count every endpoint and delivery of the database.
  let scratch: ScratchDatabase;
  let simulator: TestSimulator;
  let receiver: Receiver;
  let service: TestService | undefined;

  const env = (receiverUrl: string) => ({
    DATABASE_URL: scratch.url,
    NOTIFY_WEBHOOK_URLS: receiverUrl,
    NOTIFY_WEBHOOK_SECRETS: secret,
    NOTIFY_TIMEOUT_MS: '500',
    NOTIFY_RETRY_DELAY_MS: '100',
    // The tests change jobs by hand: no blind job_status check may re-derive them meanwhile.
    POLL_SILENT_FIRST_MS: '600000',
    POLL_MAX_INTERVAL_MS: '600000',
  });

  beforeAll(async () => {
    scratch = await createScratchDatabase();
    simulator = await startSimulator();
  });
  afterEach(async () => {
    await service?.close();
    service = undefined;
    await receiver?.close();
  });
  afterAll(async () => {
    await simulator?.close();
    await scratch?.drop();
  });

  /** The service, once its first sweep has made the receiver's endpoint (which starts at the feed's end). */
  async function start() {
    receiver = await startReceiver(secret);
    service = await startService(simulator.url, env(receiver.url));
    await endpointReady(service);
    return service;
  }

  const scrape = (s: TestService) => async () => (await fetch(`${s.baseUrl}/metrics`)).text();

  async function endpointReady(s: TestService) {
    await eventually(
      async () => JSON.stringify((await s.admin('GET', '/v1/notifications/endpoints')).body),
      (body) => body.includes(receiver.url),
    );
  }

  /**
   * A job of its own, registered; its changes are then made by hand, as the merge would make them. The
   * receiver answers its messages as `answers` say (then 200), whatever other jobs' messages arrive.
   */
  async function job(s: TestService, answers: Answer[] = [], always: Answer = 200) {
    const jobId = `job-${randomUUID()}`;
    receiver.script(jobId, answers, always);
    expect((await s.api('POST', '/v1/jobs', { jobId, userId: `user-${jobId}` })).status).toBe(201);
    const change = (set: string) => s.deps.db.pool.query(`UPDATE jobs SET ${set} WHERE job_id = $1`, [jobId]);
    return { jobId, change };
  }

  const of = (jobId: string) => receiver.received.filter((message) => message.data.jobId === jobId);

  it('sends job.updated for every change and job.finalized once final and confirmed, signed, in order, without identity data', async () => {
    const s = await start();
    const request = submissionRequest();
    expect((await s.api('POST', '/v1/submissions', request)).status).toBe(202);
    const messages = await eventually(
      () => of(request.jobId),
      (list) => list.some((message) => message.type === 'job.finalized'),
    );
    expect(messages.every((message) => message.verified)).toBe(true);
    expect(messages[0]).toMatchObject({ type: 'job.updated', data: { state: 'pending', isFinal: false } });
    const finalized = messages.findIndex((message) => message.type === 'job.finalized');
    expect(messages[finalized - 1]).toMatchObject({
      type: 'job.updated',
      data: { state: 'approved', isFinal: true, confirmed: true },
    });
    expect(messages[finalized]!.data).toMatchObject({ state: 'approved', isFinal: true, confirmed: true });
    expect(messages.filter((message) => message.type === 'job.finalized')).toHaveLength(1);
    // In the feed's order: each message's cursor is the feed's next one for this job.
    const feed = await s.api('GET', `/v1/changes?limit=1000&after=${messages[0]!.data.cursor}`);
    const cursors = (feed.body as unknown as { items: { jobId: string; cursor: string }[] }).items
      .filter((item) => item.jobId === request.jobId)
      .map((item) => item.cursor);
    expect(
      messages
        .slice(1)
        .filter((message) => message.type === 'job.updated')
        .map((message) => message.data.cursor),
    ).toEqual(cursors);
    const text = JSON.stringify(messages);
    for (const value of [
      request.idInfo.idNumber,
      request.idInfo.firstName,
      request.idInfo.lastName,
      request.idInfo.dob,
    ]) {
      expect(text).not.toContain(value);
    }
  });

  it('retries a 500 and a timeout with the same webhook-id, and holds the job’s next change until the first is delivered', async () => {
    const s = await start();
    const { jobId, change } = await job(s, [500, 'hold', 500]);
    await change("state = 'provisional'");
    const messages = await eventually(
      () => of(jobId),
      (list) => list.filter((message) => message.answered === 200).length === 2,
    );
    const [first, ...rest] = messages;
    // Three failed attempts of the registration's message, then it, then the next change: never ahead of it.
    expect(messages.map((message) => message.answered)).toEqual([500, 'held', 500, 200, 200]);
    expect(rest.slice(0, 3).map((message) => message.id)).toEqual([first!.id, first!.id, first!.id]);
    expect(messages[4]).toMatchObject({ data: { state: 'provisional' } });
    expect(messages[4]!.id).not.toBe(first!.id);
  });

  it('delivers what waited while the receiver was down, once it is back', async () => {
    const s = await start();
    await receiver.down();
    const { jobId, change } = await job(s);
    await change("state = 'provisional'");
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await receiver.up();
    const messages = await eventually(
      () => of(jobId),
      (list) => list.length === 2,
    );
    expect(messages.map((message) => message.data.state)).toEqual(['pending', 'provisional']);
  });

  it('stops at 410 Gone until an operator enables the endpoint, then sends what waited, in order', async () => {
    const s = await start();
    const { jobId, change } = await job(s, [410]);
    const endpoints = await eventually(
      async () =>
        (await s.admin('GET', '/v1/notifications/endpoints')).body as unknown as {
          items: { id: number; disabledAt: string | null }[];
        },
      (body) => body.items.some((endpoint) => endpoint.disabledAt !== null),
    );
    await change("state = 'provisional'");
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(of(jobId).map((message) => message.answered)).toEqual([410]);
    // Gauges are read from Postgres at most every 5 s, and a slow read keeps the last values.
    const metrics = await eventually(scrape(s), (text) =>
      /^smileid_webhook_endpoints_disabled 1$/m.test(text),
    );
    expect(metrics).toMatch(/^smileid_webhook_endpoints_disabled 1$/m);

    const disabled = endpoints.items.find((endpoint) => endpoint.disabledAt !== null)!;
    expect((await s.admin('POST', `/v1/notifications/endpoints/${disabled.id}/enable`)).status).toBe(200);
    const messages = await eventually(
      () => of(jobId),
      (list) => list.length === 3,
    );
    expect(messages.map((message) => [message.data.state, message.answered])).toEqual([
      ['pending', 410],
      ['pending', 200],
      ['provisional', 200],
    ]);
  });

  it('retires an endpoint no worker lists any more, out of the backlog, and removes it on request', async () => {
    type Endpoint = { id: number; url: string; retired: boolean; pending: number; dead: number };
    const endpoints = async (s: TestService) =>
      ((await s.admin('GET', '/v1/notifications/endpoints')).body as unknown as { items: Endpoint[] }).items;
    const first = await start();
    const firstUrl = receiver.url;
    await receiver.down();
    await job(first);
    await eventually(
      () => endpoints(first),
      (items) => (items.find((endpoint) => endpoint.url === firstUrl)?.pending ?? 0) > 0,
    );
    await first.close();
    service = undefined;
    await receiver.close();

    // The workers start with another list. The first endpoint stays live until no worker has listed it
    // for 15 minutes (a rolling deploy's old workers may still list it), then it is retired.
    const s = await start();
    const byUrl = async (url: string) => (await endpoints(s)).find((endpoint) => endpoint.url === url)!;
    expect(await byUrl(firstUrl)).toMatchObject({ retired: false });
    expect(
      await s.admin('DELETE', `/v1/notifications/endpoints/${(await byUrl(firstUrl)).id}`),
    ).toMatchObject({
      status: 409,
      body: { error: { code: 'ENDPOINT_CONFIGURED' } },
    });
    await s.deps.db.pool.query(
      "UPDATE webhook_endpoints SET configured_at = now() - interval '16 minutes' WHERE url = $1",
      [firstUrl],
    );
    const retired = await byUrl(firstUrl);
    const current = await byUrl(receiver.url);
    expect(retired).toMatchObject({ retired: true });
    expect(retired.pending).toBeGreaterThan(0);
    expect(current).toMatchObject({ retired: false });
    const metrics = await eventually(scrape(s), (text) => /^smileid_webhook_backlog 0$/m.test(text));
    expect(metrics).toMatch(/^smileid_webhook_backlog 0$/m);
    expect(Number(/^smileid_webhook_endpoints_retired (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
    expect(await s.admin('POST', `/v1/notifications/endpoints/${retired.id}/enable`)).toMatchObject({
      status: 409,
      body: { error: { code: 'ENDPOINT_RETIRED' } },
    });

    expect(await s.admin('DELETE', `/v1/notifications/endpoints/${current.id}`)).toMatchObject({
      status: 409,
      body: { error: { code: 'ENDPOINT_CONFIGURED' } },
    });
    expect(await s.admin('DELETE', `/v1/notifications/endpoints/${retired.id}`)).toMatchObject({
      status: 200,
      body: { id: retired.id, removed: true, pending: retired.pending, dead: 0 },
    });
    expect(await s.admin('DELETE', `/v1/notifications/endpoints/${retired.id}`)).toMatchObject({
      status: 404,
      body: { error: { code: 'NOT_FOUND' } },
    });
    expect((await endpoints(s)).map((endpoint) => endpoint.url)).not.toContain(firstUrl);
  });

  it('dead-letters a delivery past its retry window, lists it, and redelivers it with the same webhook-id', async () => {
    const s = await start();
    const { jobId } = await job(s, [], 500);
    await eventually(
      () => of(jobId),
      (list) => list.length >= 1,
    );
    // The retry window (NOTIFY_RETRY_HOURS) has passed for it.
    await s.deps.db.pool.query(
      "UPDATE webhook_deliveries SET created_at = now() - interval '25 hours' WHERE job_id = $1",
      [jobId],
    );
    type DeadLetters = { items: { id: string; jobId: string; messageId: string; lastStatus: number }[] };
    const dead = await eventually(
      async () =>
        (await s.admin('GET', '/v1/notifications/dead-letters?limit=200')).body as unknown as DeadLetters,
      (body) => body.items.some((item) => item.jobId === jobId),
    );
    const letter = dead.items.find((item) => item.jobId === jobId)!;
    expect(letter.lastStatus).toBe(500);
    const metrics = await (await fetch(`${s.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/^smileid_webhook_deliveries_total\{endpoint="\d+",result="dead"\} [1-9]/m);

    receiver.script(jobId, [], 200);
    expect((await s.admin('POST', `/v1/notifications/dead-letters/${letter.id}/redeliver`)).status).toBe(202);
    const messages = await eventually(
      () => of(jobId),
      (list) => list.some((message) => message.answered === 200),
    );
    expect(messages.at(-1)).toMatchObject({ id: letter.messageId, answered: 200, verified: true });
    expect((await s.admin('POST', `/v1/notifications/dead-letters/${letter.id}/redeliver`)).status).toBe(404);
    // Past Postgres' bigint: a validation error, not a failed cast.
    expect(
      await s.admin('POST', '/v1/notifications/dead-letters/9999999999999999999/redeliver'),
    ).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED' } } });
  });

  it('delivers, after the worker delivering it is killed, what it was delivering', async () => {
    receiver = await startReceiver(secret);
    const prefix = `test-${randomUUID().slice(0, 8)}`;
    // A timeout longer than the test: the delivery is still in flight when its worker dies.
    const slow = { ...env(receiver.url), NOTIFY_TIMEOUT_MS: '60000', REDIS_PREFIX: prefix };
    const api = await startService(simulator.url, { ...slow, ROLE: 'api' });
    const worker = spawnService({
      ...slow,
      ROLE: 'worker',
      DATABASE_URL: api.config.DATABASE_URL,
      REDIS_URL: api.config.REDIS_URL,
      SMILE_PARTNER_ID: TEST_PARTNER_ID,
      SMILE_API_KEYS: TEST_API_KEY,
      SMILE_API_BASE_URL: `${simulator.url}/v1`,
    });
    try {
      await waitForOutput(worker, 'service started');
      await endpointReady(api);
      // Another job's message first, as another test file's would be: it must not take this job's answer.
      await job(api);
      const { jobId } = await job(api, ['hold']);
      await eventually(
        () => of(jobId),
        (list) => list.length > 0,
      );
      expect(await worker.stop('SIGKILL')).toBe(null);
      service = await startService(simulator.url, { ...slow, ROLE: 'worker' });
      const messages = await eventually(
        () => of(jobId),
        (list) => list.some((message) => message.answered === 200),
        30_000,
      );
      expect(messages.map((message) => message.answered)).toEqual(['held', 200]);
      expect(messages[1]!.id).toBe(messages[0]!.id);
    } finally {
      await worker.stop('SIGKILL');
      await api.close();
    }
  }, 60_000);
});
