import { execFile } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { idInfoCallback, resultCallback, simulatedJob } from '../../src/simulator/callbacks.js';
import { PII_TOKEN } from '../helpers/app.js';
import { signed } from '../helpers/callbacks.js';
import { eventually, jobWhen, simulatedService } from '../helpers/service.js';

const QUOTA = 3;

/**
 * Bodies whose signature verifies but whose pair cannot vouch for them (stale, future-dated, unparseable
 * timestamp, replayed pair) are kept as evidence, yet cost almost nothing: no schedule moves, at most
 * one low-priority job_status look per job id, and past a per-source quota not even their bytes.
 */
describe('untrusted bodies cost almost nothing', () => {
  // Behind a proxy that sets X-Forwarded-For, so each test can speak from an address of its own.
  const running = simulatedService({ TRUST_PROXY: 'true', UNTRUSTED_BODY_QUOTA_PER_HOUR: String(QUOTA) });

  const someAddress = () => `198.51.100.${randomInt(1, 255)}`;
  const stale = () => new Date(Date.now() - 3 * 365 * 86_400_000).toISOString();
  const post = (body: Record<string, unknown>, from = someAddress()) =>
    running.service.postCallback(body, { 'x-forwarded-for': from });
  const jobRow = async (jobId: string) =>
    (
      await running.service.deps.db.pool.query(
        `SELECT tracked, next_check_at AS "nextCheckAt", untrusted_check_at AS "untrustedCheckAt",
                last_checked_at AS "lastCheckedAt", version, needs_confirmation AS "needsConfirmation"
           FROM jobs WHERE job_id = $1`,
        [jobId],
      )
    ).rows[0];
  const callsFor = async (jobId: string) =>
    ((await running.sim.control('/stats')) as { callsPerJob: Record<string, number> }).callsPerJob[jobId] ??
    0;

  it('buys one job_status look for an unknown job signed years ago, and no polling after it', async () => {
    const jobs = Array.from({ length: 3 }, () => simulatedJob());
    for (const job of jobs) {
      for (let copy = 0; copy < 3; copy += 1) {
        const body = { ...resultCallback(job, 'approved'), ResultText: `copy ${copy}` };
        expect((await post(signed(body, stale()))).status).toBe(200);
      }
    }
    expect(await jobRow(jobs[0]!.jobId)).toMatchObject({ tracked: false, nextCheckAt: null });
    for (const job of jobs) {
      await eventually(async () => (await jobRow(job.jobId)).lastCheckedAt !== null);
    }
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    for (const job of jobs) {
      expect(await callsFor(job.jobId)).toBe(1);
      // Smile ID does not know the job for that user: it stays untracked and unpolled.
      expect(await jobRow(job.jobId)).toMatchObject({
        tracked: false,
        nextCheckAt: null,
        untrustedCheckAt: null,
        needsConfirmation: false,
      });
    }
  });

  it('tracks a job an untrusted body named once its one look finds it at Smile ID', async () => {
    const job = simulatedJob();
    await running.sim.control('/jobs', { jobId: job.jobId, userId: job.userId, life: 'approved' });
    await post(signed(resultCallback(job, 'approved'), stale()));
    const settled = await jobWhen(running.service, job.jobId, (current) => current.confirmed);
    expect(settled).toMatchObject({ state: 'approved', isFinal: true, userIdSource: 'job_status' });
    expect(await jobRow(job.jobId)).toMatchObject({ tracked: true, nextCheckAt: null });
  });

  it('stores a body dated beyond the clock skew as untrusted', async () => {
    const job = simulatedJob();
    const future = new Date(Date.now() + 10 * 60_000).toISOString();
    await post(signed(resultCallback(job, 'approved'), future));
    const { rows } = await running.service.deps.db.pool.query(
      'SELECT trusted, untrusted_reason AS reason FROM callback_events WHERE job_id = $1',
      [job.jobId],
    );
    expect(rows).toEqual([{ trusted: false, reason: 'timestamp_in_future' }]);
  });

  it('never touches a job job_status confirmed final, nor spends a look on it', async () => {
    const job = simulatedJob();
    await running.sim.control('/jobs', { jobId: job.jobId, userId: job.userId, life: 'approved' });
    await running.service.api('POST', '/v1/jobs', { jobId: job.jobId, userId: job.userId });
    await jobWhen(running.service, job.jobId, (current) => current.confirmed);
    const before = await jobRow(job.jobId);
    const calls = await callsFor(job.jobId);
    expect((await post(signed(resultCallback(job, 'rejected'), stale()))).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await jobRow(job.jobId)).toEqual(before);
    expect(await callsFor(job.jobId)).toBe(calls);
  });

  it('keeps only the digest and metadata of untrusted bodies past the source’s hourly quota', async () => {
    // An address no other test speaks from (TEST-NET-1), so only this test's bodies count against it.
    const from = '192.0.2.7';
    const jobs = Array.from({ length: QUOTA + 2 }, () => simulatedJob());
    for (const job of jobs) await post(signed(resultCallback(job), stale()), from);
    const { rows } = await running.service.deps.db.pool.query(
      `SELECT body IS NOT NULL AS kept, body_withheld AS withheld, content_hash IS NOT NULL AS hashed
         FROM callback_events WHERE source_ip = $1 ORDER BY received_at`,
      [from],
    );
    expect(rows).toEqual([
      ...Array.from({ length: QUOTA }, () => ({ kept: true, withheld: false, hashed: true })),
      { kept: false, withheld: true, hashed: true },
      { kept: false, withheld: true, hashed: true },
    ]);
    const metrics = await (await fetch(`${running.service.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(
      /^smileid_untrusted_callbacks_total\{reason="timestamp_outside_tolerance",body="withheld"\} [1-9]/m,
    );
  });
});

describe('no usable signature pair at rest or on the API', () => {
  const running = simulatedService();

  it('leaves no callback or job_status signature in a database dump', async () => {
    const job = simulatedJob();
    await running.sim.control('/jobs', { jobId: job.jobId, userId: job.userId, life: 'approved' });
    const body = signed(idInfoCallback(job, { photoBytes: 64 }));
    await running.service.postCallback(body);
    await jobWhen(running.service, job.jobId, (current) => current.confirmed);
    const { stdout } = await promisify(execFile)('pg_dump', ['--data-only', inject('databaseUrl')], {
      maxBuffer: 256 * 1024 * 1024,
    });
    expect(stdout).toContain(job.jobId);
    expect(stdout).not.toContain(body.signature as string);
    expect(stdout).not.toContain(body.timestamp as string);
    const columns = await running.service.deps.db.pool.query(
      `SELECT table_name, column_name FROM information_schema.columns
        WHERE table_schema = 'public' AND column_name IN ('signature', 'timestamp_raw')`,
    );
    expect(columns.rows).toEqual([]);
  });

  it('redacts the signature of stored bodies on ?include=body', async () => {
    const job = simulatedJob();
    const body = signed(resultCallback(job));
    await running.service.postCallback(body);
    const response = await fetch(`${running.service.baseUrl}/v1/jobs/${job.jobId}/events?include=body`, {
      headers: { authorization: `Bearer ${PII_TOKEN}` },
    });
    const text = await response.text();
    expect(response.status).toBe(200);
    expect(text).not.toContain(body.signature as string);
    expect(JSON.parse(text).items[0].body).toMatchObject({
      signature: '[redacted]',
      timestamp: body.timestamp,
    });
  });
});
