import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_POLL_MODEL } from '../../src/domain/poll-schedule.js';
import { createStatusCheck } from '../../src/reconcile/check-status.js';
import {
  idInfoCallback,
  resultCallback,
  type SimulatedJob,
  simulatedJob,
  smileSecureCallback,
} from '../../src/simulator/callbacks.js';
import { jobStatusAt } from '../../src/simulator/job-lives.js';
import { createStatusStore } from '../../src/store/evidence/status-store.js';
import { API_TOKEN, createTestApp, PII_TOKEN, TEST_CURSORS, type TestApp } from '../helpers/app.js';
import { postCallback, signed } from '../helpers/callbacks.js';
import { expectErrorBody } from '../helpers/http.js';
import { DEFAULT_POLICY, silentLogger, unreachableSmileId } from '../helpers/status.js';
import { bearer } from './api-fixtures.js';

interface EventItem {
  id: string;
  source: 'callback' | 'job_status';
  receivedAt?: string;
  fetchedAt?: string;
  body?: unknown;
  [key: string]: unknown;
}

describe('GET /v1/jobs/:jobId/events', () => {
  let t: TestApp;
  const job: SimulatedJob = simulatedJob();
  const start = Date.now() - 60_000;
  let clock = start;
  // Posted a second apart, in this order; then a job_status snapshot a second after the last.
  const bodies = [
    signed(resultCallback(job, 'provisional')),
    signed(idInfoCallback(job)),
    // Signed an hour ago: stored, but not trusted.
    signed(smileSecureCallback(job), new Date(start - 3_600_000).toISOString()),
  ];
  const statusBody = { ...jobStatusAt('approved', job, 10_000_000), timestamp: 'ts', signature: 'sig' };

  beforeAll(async () => {
    t = await createTestApp({ now: () => new Date(clock) });
    for (const body of bodies) {
      clock += 1000;
      expect((await postCallback(t.app, body)).statusCode).toBe(200);
    }
    const store = createStatusStore({ pool: t.db.pool, cipher: t.cipher, vault: t.storage.vault });
    const check = createStatusCheck({
      store,
      client: unreachableSmileId,
      log: silentLogger,
      pollModel: { ...DEFAULT_POLL_MODEL, horizonMs: 3_600_000 },
      policy: DEFAULT_POLICY,
    });
    const raw = Buffer.from(JSON.stringify(statusBody));
    const applied = await check.apply(
      job.jobId,
      { kind: 'status', body: statusBody, raw, timestamp: 'ts', signature: 'sig' },
      new Date(clock + 1000),
    );
    expect(applied).toBeDefined();
  });
  afterAll(() => t?.close());

  const get = (query = '', token = API_TOKEN, jobId = job.jobId) =>
    t.app.inject({ method: 'GET', url: `/v1/jobs/${jobId}/events${query}`, headers: bearer(token) });
  const items = async (query = '', token = API_TOKEN) =>
    (await get(query, token)).json().items as EventItem[];

  it('lists the stored callbacks and job_status snapshots, newest first, without bodies', async () => {
    const response = await get();
    expect(response.statusCode).toBe(200);
    const listed = response.json().items as EventItem[];
    expect(listed.map((item) => item.source)).toEqual(['job_status', 'callback', 'callback', 'callback']);
    expect(listed.map((item) => item.fetchedAt ?? item.receivedAt)).toEqual(
      [4, 3, 2, 1].map((seconds) => new Date(start + seconds * 1000).toISOString()),
    );
    expect(response.json().nextCursor).toBeNull();
    for (const item of listed) expect(item).not.toHaveProperty('body');
    expect(response.body).not.toContain(job.idNumber);
    expect(response.body).not.toContain(job.fullName);
  });

  it('describes each callback: kinds, trust, hash and size of the exact body, Smile job id', async () => {
    const callbacks = (await items()).filter((item) => item.source === 'callback').reverse();
    bodies.forEach((body, index) => {
      const bytes = Buffer.from(JSON.stringify(body));
      expect(callbacks[index]).toMatchObject({
        contentHash: createHash('sha256').update(bytes).digest('hex'),
        bodyBytes: bytes.length,
        smileJobId: job.smileJobId,
      });
    });
    expect(callbacks.map((item) => item.kinds)).toEqual([['result'], ['id_info'], ['smile_secure']]);
    expect(callbacks.map((item) => [item.trusted, item.untrustedReason])).toEqual([
      [true, null],
      [true, null],
      [false, 'timestamp_outside_tolerance'],
    ]);
  });

  it('describes the job_status snapshot as trusted, with its completion flags', async () => {
    const [snapshot] = await items();
    expect(snapshot).toMatchObject({
      source: 'job_status',
      trusted: true,
      untrustedReason: null,
      jobComplete: true,
      jobSuccess: true,
      fetchedAt: new Date(start + 4000).toISOString(),
    });
    expect(snapshot).not.toHaveProperty('receivedAt');
  });

  it('serves the stored bodies to a PII token that asks for them', async () => {
    const listed = await items('?include=body', PII_TOKEN);
    // A signature with its timestamp would verify on any body: it never leaves the service.
    const redacted = (body: object) => ({ ...body, signature: '[redacted]' });
    expect(listed.map((item) => item.body)).toEqual([statusBody, ...[...bodies].reverse()].map(redacted));
  });

  it('answers 403 PII_FORBIDDEN to an ordinary token asking for bodies, and shows none', async () => {
    const response = await get('?include=body', API_TOKEN);
    expectErrorBody(response, 403, 'PII_FORBIDDEN');
    expect(response.body).not.toContain(job.idNumber);
  });

  it('pages through the events with a cursor, each once, in the same order', async () => {
    const all = (await items()).map((item) => item.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const response = await get(`?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      const page = response.json() as { items: EventItem[]; nextCursor: string | null };
      expect(page.items).toHaveLength(1);
      seen.push(...page.items.map((item) => item.id));
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(seen).toEqual(all);
  });

  it('keeps pages with bodies small: 5 by default, at most 20', async () => {
    const first = await get('?include=body&limit=2', PII_TOKEN);
    expect(first.json().items).toHaveLength(2);
    expect(first.json().nextCursor).toEqual(expect.any(String));
    const response = await get('?include=body&limit=21', PII_TOKEN);
    expectErrorBody(response, 400, 'VALIDATION_FAILED');
    expect(response.json().error.message).toBe('query: limit must be at most 20 with include=body');
    expect((await get('?limit=200')).statusCode).toBe(200);
    expectErrorBody(await get('?limit=201'), 400, 'VALIDATION_FAILED');
  });

  it('answers 404 JOB_NOT_FOUND for an unknown job, with or without bodies', async () => {
    expectErrorBody(await get('', API_TOKEN, 'no-such-job'), 404, 'JOB_NOT_FOUND');
    expectErrorBody(await get('?include=body', PII_TOKEN, 'no-such-job'), 404, 'JOB_NOT_FOUND');
  });

  it.each([
    ['a cursor of the jobs listing', `?cursor=${TEST_CURSORS.encode('jobs', { seq: '12' })}`],
    [
      'a cursor with a date that is not one',
      `?cursor=${TEST_CURSORS.encode('events', { at: 'soon', id: crypto.randomUUID() })}`,
    ],
    ['a cursor that is not base64url', '?cursor=%2B%2F%3D'],
  ])('answers 400 INVALID_CURSOR for %s', async (_name, query) => {
    expectErrorBody(await get(query), 400, 'INVALID_CURSOR');
  });

  it.each([
    ['include=idInfo', '?include=idInfo'],
    ['an unknown parameter', '?state=approved'],
    ['include given twice', '?include=body&include=body'],
  ])('answers 400 VALIDATION_FAILED for %s', async (_name, query) => {
    expectErrorBody(await get(query, PII_TOKEN), 400, 'VALIDATION_FAILED');
  });

  it('answers 401 UNAUTHENTICATED without a valid token', async () => {
    const response = await t.app.inject({ method: 'GET', url: `/v1/jobs/${job.jobId}/events?include=body` });
    expectErrorBody(response, 401, 'UNAUTHENTICATED');
    expectErrorBody(await get('', 'not-a-token'), 401, 'UNAUTHENTICATED');
  });
});
