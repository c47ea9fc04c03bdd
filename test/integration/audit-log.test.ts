import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idInfoCallback, simulatedJob } from '../../src/simulator/callbacks.js';
import { API_TOKEN, createTestApp, PII_TOKEN, type TestApp } from '../helpers/app.js';
import { postCallback, signed, storeJob } from '../helpers/callbacks.js';
import { createScratchDatabase } from '../helpers/database.js';
import { expectErrorBody } from '../helpers/http.js';
import { bearer } from '../http/api-fixtures.js';

interface AuditRow {
  at: Date;
  token_fingerprint: string;
  job_id: string;
  data_read: string;
  route: string;
  request_id: string | null;
}

const fingerprint = (token: string) => createHash('sha256').update(token).digest('hex').slice(0, 16);

describe('the audit trail of identity-data reads', () => {
  let t: TestApp;
  const job = simulatedJob();

  beforeAll(async () => {
    t = await createTestApp();
    await storeJob(t.app, job);
  });
  afterAll(() => t?.close());

  const get = (url: string, token: string) => t.app.inject({ method: 'GET', url, headers: bearer(token) });
  const auditRows = async (jobId = job.jobId) =>
    (await t.db.pool.query<AuditRow>('SELECT * FROM audit_log WHERE job_id = $1 ORDER BY id', [jobId])).rows;

  it('records a read of idInfo: when, which token by fingerprint, which job, what, which route', async () => {
    const before = (await auditRows()).length;
    const startedAt = Date.now();
    const response = await get(`/v1/jobs/${job.jobId}?include=idInfo`, PII_TOKEN);
    expect(response.statusCode).toBe(200);
    expect(response.json().idInfo.idNumber).toBe(job.idNumber);

    const rows = await auditRows();
    expect(rows).toHaveLength(before + 1);
    const row = rows.at(-1)!;
    expect(row).toMatchObject({
      token_fingerprint: fingerprint(PII_TOKEN),
      job_id: job.jobId,
      data_read: 'idInfo',
      route: 'GET /v1/jobs/:jobId',
      request_id: expect.any(String),
    });
    expect(row.at.getTime()).toBeGreaterThanOrEqual(startedAt - 1000);
    expect(row.at.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
  });

  it('records a read of stored bodies', async () => {
    const before = (await auditRows()).length;
    expect((await get(`/v1/jobs/${job.jobId}/events?include=body`, PII_TOKEN)).statusCode).toBe(200);
    const rows = await auditRows();
    expect(rows).toHaveLength(before + 1);
    expect(rows.at(-1)).toMatchObject({
      token_fingerprint: fingerprint(PII_TOKEN),
      data_read: 'body',
      route: 'GET /v1/jobs/:jobId/events',
    });
  });

  it('keeps neither the token nor the data in the trail', async () => {
    await get(`/v1/jobs/${job.jobId}?include=idInfo`, PII_TOKEN);
    const stored = JSON.stringify(await auditRows());
    for (const secret of [PII_TOKEN, job.idNumber, job.fullName, job.dob, job.phoneNumber]) {
      expect(stored).not.toContain(secret);
    }
  });

  it('records nothing for reads without identity data, refused reads and unknown jobs', async () => {
    const before = (await auditRows()).length;
    for (const token of [API_TOKEN, PII_TOKEN]) {
      expect((await get(`/v1/jobs/${job.jobId}`, token)).statusCode).toBe(200);
      expect((await get(`/v1/jobs/${job.jobId}/events`, token)).statusCode).toBe(200);
      expect((await get(`/v1/jobs?userId=${job.userId}`, token)).statusCode).toBe(200);
    }
    expect((await get(`/v1/jobs/${job.jobId}?include=idInfo`, API_TOKEN)).statusCode).toBe(403);
    expect((await get(`/v1/jobs/${job.jobId}/events?include=body`, API_TOKEN)).statusCode).toBe(403);
    expect((await auditRows()).length).toBe(before);

    expect((await get('/v1/jobs/no-such-job?include=idInfo', PII_TOKEN)).statusCode).toBe(404);
    expect((await get('/v1/jobs/no-such-job/events?include=body', PII_TOKEN)).statusCode).toBe(404);
    expect(await auditRows('no-such-job')).toEqual([]);
  });

  it('matches schema.prisma: a row round-trips through the generated Prisma client', async () => {
    const entry = {
      at: new Date('2026-01-02T03:04:05.678Z'),
      tokenFingerprint: '0123456789abcdef',
      jobId: `schema-${job.jobId}`,
      dataRead: 'review',
      route: 'POST /v1/jobs/:jobId/review',
      requestId: 'request-1',
      details: { decision: 'approve', reason: 'documents_match', note: null },
    };
    const created = await t.db.prisma.auditLog.create({ data: entry });
    expect(created).toEqual({ ...entry, id: expect.any(BigInt) });
    expect(await t.db.prisma.auditLog.findUniqueOrThrow({ where: { id: created.id } })).toEqual(created);
  });

  it('keeps audit rows immutable', async () => {
    await expect(
      t.db.pool.query("UPDATE audit_log SET route = 'x' WHERE job_id = $1", [job.jobId]),
    ).rejects.toThrow(/immutable/);
  });
});

describe('an identity-data read that cannot be audited', () => {
  it('serves no identity data when the audit row cannot be written', async () => {
    const database = await createScratchDatabase();
    const t = await createTestApp({ env: { DATABASE_URL: database.url } });
    try {
      const job = simulatedJob();
      await postCallback(t.app, signed(idInfoCallback(job)));
      await t.db.pool.query('ALTER TABLE audit_log RENAME TO audit_log_gone');
      const response = await t.app.inject({
        method: 'GET',
        url: `/v1/jobs/${job.jobId}?include=idInfo`,
        headers: bearer(PII_TOKEN),
      });
      expectErrorBody(response, 500, 'INTERNAL_ERROR');
      expect(response.body).not.toContain(job.idNumber);
      // Reads without identity data are unaffected.
      expect(
        (await t.app.inject({ method: 'GET', url: `/v1/jobs/${job.jobId}`, headers: bearer(API_TOKEN) }))
          .statusCode,
      ).toBe(200);
    } finally {
      await t.close();
      await database.drop();
    }
  });
});
