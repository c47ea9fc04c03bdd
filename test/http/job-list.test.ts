import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idInfoCallback, resultCallback, simulatedJob } from '../../src/simulator/callbacks.js';
import { API_TOKEN, createTestApp, PII_TOKEN, TEST_CURSORS, type TestApp } from '../helpers/app.js';
import { postCallback, signed } from '../helpers/callbacks.js';
import { createScratchDatabase } from '../helpers/database.js';
import { expectErrorBody } from '../helpers/http.js';
import { bearer, insertJobs, listAllJobs, type Page } from './api-fixtures.js';

describe('GET /v1/jobs', () => {
  let t: TestApp;
  let database: Awaited<ReturnType<typeof createScratchDatabase>>;
  // Inserted in this order, so this is also the listing order.
  const seeds = [
    {
      jobId: 'f-1',
      userId: 'u1',
      state: 'approved',
      isFinal: true,
      updatedAt: new Date('2026-01-01T00:00:00Z'),
    },
    {
      jobId: 'f-2',
      userId: 'u1',
      state: 'rejected',
      isFinal: true,
      idNumberPreviouslyRegistered: true,
      updatedAt: new Date('2026-02-01T00:00:00Z'),
    },
    {
      jobId: 'f-3',
      userId: 'u2',
      state: 'pending',
      stale: true,
      updatedAt: new Date('2026-03-01T00:00:00Z'),
    },
    {
      jobId: 'f-4',
      userId: 'u2',
      state: 'provisional',
      idNumberPreviouslyRegistered: true,
      updatedAt: new Date('2026-04-01T00:00:00Z'),
    },
    {
      jobId: 'f-5',
      userId: 'u3',
      state: 'failed',
      isFinal: true,
      idNumberPreviouslyRegistered: false,
      updatedAt: new Date('2026-05-01T12:00:00Z'),
    },
  ] as const;
  const bulk = Array.from({ length: 55 }, (_, index) => ({
    jobId: `bulk-${String(index).padStart(2, '0')}`,
    userId: 'bulk-user',
    state: 'approved' as const,
    isFinal: true,
    updatedAt: new Date('2025-06-01T00:00:00Z'),
  }));
  const withIdInfo = simulatedJob();

  beforeAll(async () => {
    database = await createScratchDatabase();
    t = await createTestApp({ env: { DATABASE_URL: database.url } });
    await insertJobs(t.db.pool, [...seeds]);
    await insertJobs(t.db.pool, bulk);
    for (const body of [resultCallback(withIdInfo), idInfoCallback(withIdInfo)]) {
      expect((await postCallback(t.app, signed(body))).statusCode).toBe(200);
    }
  });
  afterAll(async () => {
    await t?.close();
    await database?.drop();
  });

  const get = (query: string, token = API_TOKEN) =>
    t.app.inject({ method: 'GET', url: `/v1/jobs?${query}`, headers: bearer(token) });
  const ids = async (query: string) => (await listAllJobs(t.app, API_TOKEN, query)).ids;

  it('lists every job once, in insertion order, across pages', async () => {
    const listed = await listAllJobs(t.app, API_TOKEN, 'limit=7');
    const expected = [...seeds.map((seed) => seed.jobId), ...bulk.map((job) => job.jobId), withIdInfo.jobId];
    expect(listed.ids).toEqual(expected);
    expect(listed.pages).toBe(Math.ceil(expected.length / 7));
  });

  it('filters by one state', async () => {
    expect(await ids('state=rejected')).toEqual(['f-2']);
  });

  it('filters by a comma-separated list of states, repeated ones included', async () => {
    expect(await ids('state=pending,failed,provisional,failed')).toEqual(['f-3', 'f-4', 'f-5']);
  });

  it('filters by userId', async () => {
    expect(await ids('userId=u2')).toEqual(['f-3', 'f-4']);
    expect(await ids('userId=nobody')).toEqual([]);
  });

  it('filters by isFinal', async () => {
    expect(await ids('isFinal=false&userId=u2')).toEqual(['f-3', 'f-4']);
    expect(await ids('isFinal=true&state=approved,rejected,failed&userId=u1')).toEqual(['f-1', 'f-2']);
  });

  it('filters by updatedSince, inclusive, with an offset or as a date', async () => {
    // 2026-03-01T00:00:00Z exactly, written with a +01:00 offset.
    expect(await ids(`updatedSince=${encodeURIComponent('2026-03-01T01:00:00+01:00')}`)).toEqual([
      'f-3',
      'f-4',
      'f-5',
      withIdInfo.jobId,
    ]);
    expect(await ids('updatedSince=2026-05-01&userId=u3')).toEqual(['f-5']);
    expect(await ids('updatedSince=2026-05-02&userId=u3')).toEqual([]);
  });

  it('finds jobs whose ID number was previously registered, those whose was not, and those not known yet', async () => {
    expect(await ids('idNumberPreviouslyRegistered=true')).toEqual(['f-2', 'f-4']);
    const notPreviously = await ids('idNumberPreviouslyRegistered=false');
    expect(notPreviously).toContain('f-5');
    expect(notPreviously).not.toContain('f-1');
    expect(notPreviously).not.toContain('f-2');
    // Unknown is not false: no ID record said either way for these.
    const unknown = await ids('idNumberPreviouslyRegistered=unknown');
    expect(unknown).toEqual(expect.arrayContaining(['f-1', 'f-3']));
    expect(unknown).not.toContain('f-5');
    expect(unknown).not.toContain('f-2');
  });

  it('filters stale jobs in and out', async () => {
    expect(await ids('stale=true')).toEqual(['f-3']);
    expect(await ids('stale=false&userId=u2')).toEqual(['f-4']);
  });

  it('combines every filter given', async () => {
    expect(await ids('state=approved,rejected&isFinal=true&userId=u1&updatedSince=2026-01-15')).toEqual([
      'f-2',
    ]);
  });

  it('pages 50 jobs by default and at most 200', async () => {
    const first = await get('userId=bulk-user');
    const page = first.json() as Page;
    expect(page.items).toHaveLength(50);
    expect(page.nextCursor).toEqual(expect.any(String));
    const rest = (await get(`userId=bulk-user&cursor=${page.nextCursor}`)).json() as Page;
    expect(rest.items.map((item) => item.jobId)).toEqual(bulk.slice(50).map((job) => job.jobId));
    expect(rest.nextCursor).toBeNull();
    expect(((await get('limit=200')).json() as Page).items).toHaveLength(seeds.length + bulk.length + 1);
  });

  it('never includes identity data in items, even for a PII token', async () => {
    for (const token of [API_TOKEN, PII_TOKEN]) {
      const response = await get(`userId=${withIdInfo.userId}`, token);
      const page = response.json() as Page;
      expect(page.items.map((item) => item.jobId)).toEqual([withIdInfo.jobId]);
      expect(page.items[0]).not.toHaveProperty('idInfo');
      expect(response.body).not.toContain(withIdInfo.idNumber);
      expect(response.body).not.toContain(withIdInfo.fullName);
    }
    expectErrorBody(await get('include=idInfo', PII_TOKEN), 400, 'VALIDATION_FAILED');
  });

  it('serves items in the shape of a job, with the outcome fields', async () => {
    const [item] = ((await get('userId=u3')).json() as Page).items;
    expect(item).toMatchObject({ jobId: 'f-5', userId: 'u3', state: 'failed', isFinal: true, stale: false });
    expect(item).toMatchObject({
      updatedAt: '2026-05-01T12:00:00.000Z',
      idNumberPreviouslyRegistered: false,
    });
  });

  it.each([
    ['not base64url', 'cursor=not*base64'],
    ['base64url of text that is not JSON', `cursor=${Buffer.from('hello').toString('base64url')}`],
    ['a JSON cursor of the wrong shape', `cursor=${TEST_CURSORS.encode('jobs', { page: '2' })}`],
    ['a cursor with a negative position', `cursor=${TEST_CURSORS.encode('jobs', { seq: '-5' })}`],
    [
      'a cursor of the events listing',
      `cursor=${TEST_CURSORS.encode('events', { at: '2026-01-01T00:00:00.000Z', id: crypto.randomUUID() })}`,
    ],
    [
      'a well-formed position without the service’s tag',
      `cursor=${Buffer.from('{"seq":"1"}').toString('base64url')}`,
    ],
    ['an empty cursor', 'cursor='],
    ['an overlong cursor', `cursor=${'A'.repeat(300)}`],
  ])('answers 400 INVALID_CURSOR for %s', async (_name, query) => {
    expectErrorBody(await get(query), 400, 'INVALID_CURSOR');
  });

  it.each([
    ['a date that is not a date', 'updatedSince=yesterday'],
    ['month 13', 'updatedSince=2026-13-01'],
    ['February 30th', 'updatedSince=2026-02-30T00:00:00Z'],
    ['a time without an offset', 'updatedSince=2026-11-26T10:00:00'],
    ['an empty date', 'updatedSince='],
    ['a limit over 200', 'limit=201'],
    ['a huge limit', 'limit=100000000000000000000'],
    ['a zero limit', 'limit=0'],
    ['a negative limit', 'limit=-1'],
    ['a fractional limit', 'limit=1.5'],
    ['a limit that is not a number', 'limit=ten'],
    ['an unknown state', 'state=done'],
    ['an empty state in a list', 'state=approved,,rejected'],
    ['isFinal that is not a boolean', 'isFinal=yes'],
    ['stale that is not a boolean', 'stale=1'],
    ['an empty userId', 'userId='],
    ['a userId with a NUL character', 'userId=a%00b'],
    ['a filter given twice', 'state=approved&state=rejected'],
    ['an unknown filter', 'status=approved'],
    ['a filter in the wrong case', 'State=approved'],
  ])('answers 400 VALIDATION_FAILED for %s', async (_name, query) => {
    expectErrorBody(await get(query), 400, 'VALIDATION_FAILED');
  });

  it('names what is wrong without echoing the value', async () => {
    const secret = 'S3cr3tValue';
    const responses = await Promise.all([
      get(`updatedSince=${secret}`),
      get(`limit=${secret}`),
      get(`cursor=${secret}`),
      get(`userId=${secret.repeat(30)}`),
      get(`isFinal=${secret}`),
    ]);
    for (const response of responses) {
      expect(response.statusCode).toBe(400);
      expect(response.body).not.toContain(secret);
    }
    expect(responses[0]!.json().error.message).toMatch(/^query: updatedSince must be an ISO 8601/);
    expect(responses[1]!.json().error.message).toBe('query: limit must be a whole number');
  });

  it('names an unknown filter in the message', async () => {
    const response = await get('colour=blue');
    expect(response.json().error.message).toBe('query: unknown parameter colour');
  });

  it.each([
    ['no Authorization header', undefined],
    ['a wrong token', 'Bearer wrong-token'],
    ['the Basic scheme', `Basic ${API_TOKEN}`],
  ])('answers 401 UNAUTHENTICATED with %s, before looking at the query', async (_name, authorization) => {
    for (const query of ['', 'limit=9999&colour=blue']) {
      const response = await t.app.inject({
        method: 'GET',
        url: `/v1/jobs?${query}`,
        headers: authorization === undefined ? {} : { authorization },
      });
      expectErrorBody(response, 401, 'UNAUTHENTICATED');
    }
  });
});
