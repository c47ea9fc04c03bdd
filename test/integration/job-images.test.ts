import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulatedJob } from '../../src/simulator/callbacks.js';
import { API_TOKEN, PII_TOKEN, REVIEW_TOKEN } from '../helpers/app.js';
import { jobWhen, simulatedService, startService, type TestService } from '../helpers/service.js';

interface ImagesBody {
  jobId?: string;
  fetchedAt?: string;
  imageLinks?: Record<string, string> | null;
  error?: string | null | { code: string; message: string };
}

describe('GET /v1/jobs/:jobId/images against the Smile ID simulator', () => {
  const ctx = simulatedService();

  /** A job Smile ID (the simulator) knows, registered with the service. */
  const knownJob = async (life = 'approved', extra: Record<string, unknown> = {}) => {
    const job = simulatedJob();
    await ctx.sim.control('/jobs', { jobId: job.jobId, userId: job.userId, life, ...extra });
    const registered = await ctx.service.api('POST', '/v1/jobs', { jobId: job.jobId, userId: job.userId });
    expect(registered.status).toBe(201);
    return job;
  };
  const images = async (jobId: string, token = PII_TOKEN) => {
    const response = await fetch(`${ctx.service.baseUrl}/v1/jobs/${encodeURIComponent(jobId)}/images`, {
      headers: { authorization: `Bearer ${token}` },
    });
    return {
      status: response.status,
      headers: response.headers,
      body: (await response.json()) as ImagesBody,
    };
  };
  const auditRows = async (jobId: string) =>
    (
      await ctx.service.deps.db.pool.query<{ data_read: string; route: string }>(
        'SELECT data_read, route FROM audit_log WHERE job_id = $1 ORDER BY id',
        [jobId],
      )
    ).rows;
  /** The tables whose rows, read as text, contain `needle`. */
  const tablesHolding = async (needle: string) => {
    const { pool } = ctx.service.deps.db;
    const { rows: tables } = await pool.query<{ name: string }>(
      "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
    );
    const holding: string[] = [];
    for (const { name } of tables) {
      const quoted = `"${name.replaceAll('"', '""')}"`;
      const { rows } = await pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${quoted} t WHERE strpos(t::text, $1) > 0`,
        [needle],
      );
      if ((rows[0]?.n ?? 0) > 0) holding.push(name);
    }
    return holding;
  };

  it('gives a PII reader the links Smile ID gives now, and records the read in the audit log', async () => {
    const job = await knownJob();
    const before = Date.now();
    const { status, body } = await images(job.jobId);
    expect(status).toBe(200);
    expect(body).toEqual({
      jobId: job.jobId,
      fetchedAt: expect.any(String),
      imageLinks: { selfie_image: `https://smile-simulator.invalid/images/${job.smileJobId}/selfie.jpg` },
      error: null,
    });
    expect(Date.parse(body.fetchedAt ?? '')).toBeGreaterThanOrEqual(before - 1000);
    expect(await auditRows(job.jobId)).toEqual([
      { data_read: 'images', route: 'GET /v1/jobs/:jobId/images' },
    ]);
  });

  it('stores the links nowhere and never logs them', async () => {
    const job = await knownJob();
    // Let the reconciler confirm the job first, so its own job_status snapshots are in the database too.
    expect(await jobWhen(ctx.service, job.jobId, (outcome) => outcome.confirmed)).toBeDefined();
    const { body } = await images(job.jobId);
    const link = body.imageLinks?.selfie_image;
    expect(link).toMatch(/^https:\/\//);
    const imagePath = `/images/${job.smileJobId}/`;

    // The search finds what is there: the job's own id is in its row.
    expect(await tablesHolding(job.jobId)).toContain('jobs');
    expect(await tablesHolding(imagePath)).toEqual([]);
    // Stored bodies are sealed at rest: read them opened, as a PII reader would.
    const events = await fetch(`${ctx.service.baseUrl}/v1/jobs/${job.jobId}/events?include=body`, {
      headers: { authorization: `Bearer ${PII_TOKEN}` },
    });
    expect(events.status).toBe(200);
    const opened = await events.text();
    expect(opened).toContain(job.smileJobId);
    expect(opened).not.toContain(imagePath);
    expect(ctx.service.logs()).toContain(job.jobId);
    expect(ctx.service.logs()).not.toContain(imagePath);
  });

  it('answers 200 with no links and Smile ID’s reason when job_status gives an error instead', async () => {
    const reason = 'Images are not available for this job';
    const job = await knownJob('approved', {
      statusBody: {
        job_complete: false,
        job_success: false,
        code: '2302',
        result: 'No zip uploaded yet',
        image_links: { error: reason },
      },
    });
    const { status, body } = await images(job.jobId);
    expect(status).toBe(200);
    expect(body).toMatchObject({ jobId: job.jobId, imageLinks: null, error: reason });
  });

  it('refuses an ordinary token with 403 and records nothing', async () => {
    const job = await knownJob();
    const { status, body } = await images(job.jobId, API_TOKEN);
    expect(status).toBe(403);
    expect(body.error).toMatchObject({ code: 'PII_FORBIDDEN' });
    expect(await auditRows(job.jobId)).toEqual([]);
  });

  it('gives a review token the links of a job in review, audited, and refuses them once the review is settled', async () => {
    // Smile Secure finds a suspect: the default policy asks a person once job_status confirms the result.
    const job = await knownJob('suspects');
    const decided = await jobWhen(
      ctx.service,
      job.jobId,
      (outcome) => (outcome.decision as { value?: string } | undefined)?.value === 'review',
    );
    expect(decided).toBeDefined();
    const { status, body } = await images(job.jobId, REVIEW_TOKEN);
    expect(status).toBe(200);
    expect(body.imageLinks?.selfie_image).toMatch(/^https:\/\//);
    expect(await auditRows(job.jobId)).toEqual([
      { data_read: 'images', route: 'GET /v1/jobs/:jobId/images' },
    ]);

    const settled = await fetch(`${ctx.service.baseUrl}/v1/jobs/${job.jobId}/review`, {
      method: 'POST',
      headers: { authorization: `Bearer ${REVIEW_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ decision: 'approve', reason: 'suspect_is_a_twin' }),
    });
    expect(settled.status).toBe(200);
    const refused = await images(job.jobId, REVIEW_TOKEN);
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ code: 'PII_FORBIDDEN' });
    expect((await auditRows(job.jobId)).map((row) => row.data_read)).toEqual(['images', 'review']);
  });

  it('refuses a review token the links of a job not in review, without asking Smile ID', async () => {
    const job = await knownJob();
    expect(await jobWhen(ctx.service, job.jobId, (outcome) => outcome.confirmed)).toBeDefined();
    const { status, body } = await images(job.jobId, REVIEW_TOKEN);
    expect(status).toBe(403);
    expect(body.error).toMatchObject({ code: 'PII_FORBIDDEN' });
    expect(await auditRows(job.jobId)).toEqual([]);
  });

  it('answers 404 for a job the service does not know', async () => {
    const { status, body } = await images('no-such-job-anywhere');
    expect(status).toBe(404);
    expect(body.error).toMatchObject({ code: 'JOB_NOT_FOUND' });
    expect(await auditRows('no-such-job-anywhere')).toEqual([]);
  });

  it('answers 409 for a job without a user id, which job_status cannot be asked about', async () => {
    const jobId = simulatedJob().jobId;
    await ctx.service.deps.db.pool.query('INSERT INTO jobs (job_id) VALUES ($1)', [jobId]);
    const { status, body } = await images(jobId);
    expect(status).toBe(409);
    expect(body.error).toMatchObject({ code: 'NO_USER_ID' });
  });

  it('answers 502 SMILE_ID_BAD_SIGNATURE when Smile ID’s answer does not verify, showing no links', async () => {
    const job = await knownJob('approved', { faults: { badSignature: true } });
    const { status, headers, body } = await images(job.jobId);
    expect(status).toBe(502);
    expect(body).toEqual({ error: { code: 'SMILE_ID_BAD_SIGNATURE', message: expect.any(String) } });
    expect(headers.get('retry-after')).toBeNull();
  });

  it('answers 502 SMILE_ID_UNAVAILABLE with Retry-After when Smile ID fails with 5xx', async () => {
    const job = await knownJob('approved', { faults: { failRate: 1 } });
    const { status, headers, body } = await images(job.jobId);
    expect(status).toBe(502);
    expect(body.error).toMatchObject({ code: 'SMILE_ID_UNAVAILABLE' });
    expect(Number(headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('is documented in the OpenAPI spec', async () => {
    const spec = (await (await fetch(`${ctx.service.baseUrl}/docs/json`)).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    const route = spec.paths['/v1/jobs/{jobId}/images']?.get;
    expect(Object.keys(route?.responses ?? {})).toEqual(
      expect.arrayContaining(['200', '403', '404', '409', '502']),
    );
  });
});

describe('GET /v1/jobs/:jobId/images when Smile ID does not answer', () => {
  let silent: Server;
  const sockets = new Set<Socket>();
  let service: TestService;
  beforeAll(async () => {
    // Accepts connections and never answers: a Smile ID that hangs.
    silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    service = await startService(`http://127.0.0.1:${port}`, { SMILE_API_TIMEOUT_MS: '300' });
  });
  afterAll(async () => {
    await service?.close();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent?.close(resolve));
  });

  it('answers 504 SMILE_ID_UNAVAILABLE with Retry-After once the Smile ID timeout has passed', async () => {
    const job = simulatedJob();
    expect((await service.api('POST', '/v1/jobs', { jobId: job.jobId, userId: job.userId })).status).toBe(
      201,
    );
    const started = Date.now();
    const response = await fetch(`${service.baseUrl}/v1/jobs/${job.jobId}/images`, {
      headers: { authorization: `Bearer ${PII_TOKEN}` },
    });
    expect(response.status).toBe(504);
    expect(await response.json()).toEqual({
      error: { code: 'SMILE_ID_UNAVAILABLE', message: expect.any(String) },
    });
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
