import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_POLL_MODEL } from '../../src/domain/poll-schedule.js';
import { draftDeliveries } from '../../src/notify/messages.js';
import { createStatusCheck } from '../../src/reconcile/check-status.js';
import { resultCallback, type SimulatedJob, simulatedJob } from '../../src/simulator/callbacks.js';
import { type JobLife, jobStatusAt } from '../../src/simulator/job-lives.js';
import { createStatusStore } from '../../src/store/evidence/status-store.js';
import { createChangeFeed, FEED_START, type FeedChange } from '../../src/store/feed/change-feed.js';
import { API_TOKEN, createTestApp, TEST_CURSORS, type TestApp } from '../helpers/app.js';
import { postCallback, signed } from '../helpers/callbacks.js';
import { DEFAULT_POLICY, silentLogger, unreachableSmileId } from '../helpers/status.js';

/**
 * A job's decision, derived by the default policy in the statement that writes each piece of evidence,
 * and shown by the API, the list's filter, the change feed and the webhooks.
 */
describe('decisions', () => {
  let t: TestApp;
  const HORIZON_MS = 3_600_000;
  const check = () =>
    createStatusCheck({
      store: createStatusStore({ pool: t.db.pool, cipher: t.cipher, vault: t.storage.vault }),
      client: unreachableSmileId,
      log: silentLogger,
      pollModel: { ...DEFAULT_POLL_MODEL, horizonMs: HORIZON_MS },
      policy: DEFAULT_POLICY,
    });

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t?.close());

  const api = async (url: string) =>
    (await t.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${API_TOKEN}` } })).json();
  const register = async (job: SimulatedJob, extra: Record<string, unknown> = {}) => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: { authorization: `Bearer ${API_TOKEN}` },
      payload: { jobId: job.jobId, userId: job.userId, jobType: 1, ...extra },
    });
    expect(response.statusCode).toBe(201);
  };
  /** Smile ID's signed job_status answer for the job's life, `elapsedMs` in, applied as the reconciler does. */
  const confirm = async (job: SimulatedJob, life: JobLife, elapsedMs = 10_000_000) => {
    const body = { ...jobStatusAt(life, job, elapsedMs), timestamp: 'ts', signature: 'sig' };
    const raw = Buffer.from(JSON.stringify(body));
    await check().apply(
      job.jobId,
      { kind: 'status', body, raw, timestamp: 'ts', signature: 'sig' },
      new Date(),
    );
  };
  const changesOf = async (jobId: string): Promise<FeedChange[]> => {
    const { rows } = await t.db.pool.query<{ id: string }>(
      'SELECT min(id)::text AS id FROM job_changes WHERE job_id = $1',
      [jobId],
    );
    const before = { xid: '0', id: String(BigInt(rows[0]!.id) - 1n) };
    const all = await createChangeFeed({ pool: t.db.pool }).read(rows[0]?.id ? before : FEED_START, 1000);
    return all.filter((change) => change.jobId === jobId);
  };

  it('shows a registered job pending with no result, decided under the policy in force', async () => {
    const job = simulatedJob();
    await register(job);
    expect((await api(`/v1/jobs/${job.jobId}`)).decision).toEqual({
      value: 'pending',
      reasons: ['no_result'],
      details: {},
      source: 'policy',
      rule: 'no_result',
      policyVersion: DEFAULT_POLICY.version,
      decidedAt: expect.any(String),
    });
  });

  it('keeps a final approval only a callback claims pending, and approves once job_status confirms it', async () => {
    const job = simulatedJob();
    await register(job);
    expect((await postCallback(t.app, signed(resultCallback(job, 'approved')))).statusCode).toBe(200);
    const claimed = await api(`/v1/jobs/${job.jobId}`);
    expect(claimed).toMatchObject({ state: 'approved', isFinal: true, confirmed: false });
    expect(claimed.decision).toMatchObject({ value: 'pending', rule: 'awaiting_confirmation' });
    await confirm(job, 'approved');
    const confirmed = await api(`/v1/jobs/${job.jobId}`);
    expect(confirmed.decision).toMatchObject({
      value: 'approve',
      reasons: ['approved'],
      rule: 'approved',
      source: 'policy',
      policyVersion: DEFAULT_POLICY.version,
    });
    expect(Date.parse(confirmed.decision.decidedAt)).toBeGreaterThan(Date.parse(claimed.decision.decidedAt));
  });

  it('records the decision in the same change of the feed as the evidence that moved it, and makes job.decided of it', async () => {
    const job = simulatedJob();
    await register(job);
    await confirm(job, 'rejected');
    const changes = await changesOf(job.jobId);
    const decided = changes.at(-1)!;
    expect(decided).toMatchObject({
      toState: 'rejected',
      confirmed: true,
      fromDecision: { value: 'pending' },
    });
    expect(decided.outcome.decision).toMatchObject({ value: 'reject', rule: 'rejected' });
    const events = draftDeliveries([decided], TEST_CURSORS).map((delivery) => delivery.event);
    expect(events).toEqual(['job.updated', 'job.finalized', 'job.decided']);
    const feed = await api('/v1/changes?limit=1000');
    const item = feed.items.filter((change: { jobId: string }) => change.jobId === job.jobId).at(-1);
    expect(item).toMatchObject({ fromDecision: 'pending', decision: { value: 'reject', rule: 'rejected' } });
  });

  it('names the suspects Smile Secure found when it sends an approved job to review', async () => {
    const job = simulatedJob();
    await register(job);
    await confirm(job, 'suspects');
    const { decision } = await api(`/v1/jobs/${job.jobId}`);
    expect(decision).toMatchObject({
      value: 'review',
      reasons: ['smile_secure_suspects'],
      rule: 'smile_secure_suspects',
      details: { suspectUserIds: [expect.stringMatching(/^user-/)] },
    });
  });

  it('decides again when a job goes stale at the horizon while Smile ID’s review runs', async () => {
    const job = simulatedJob();
    await register(job);
    await confirm(job, 'review', 0);
    expect((await api(`/v1/jobs/${job.jobId}`)).decision).toMatchObject({
      value: 'pending',
      rule: 'smile_id_review_in_progress',
    });
    // Born before the horizon: its next failed check marks it stale.
    await t.db.pool.query(`UPDATE jobs SET created_at = now() - interval '2 hours' WHERE job_id = $1`, [
      job.jobId,
    ]);
    const failing = createStatusCheck({
      store: createStatusStore({ pool: t.db.pool, cipher: t.cipher, vault: t.storage.vault }),
      client: { fetchStatus: async () => ({ kind: 'bad_signature' }) },
      log: silentLogger,
      pollModel: { ...DEFAULT_POLL_MODEL, horizonMs: HORIZON_MS },
      policy: DEFAULT_POLICY,
    });
    expect(await failing.run(job.jobId)).toBe('stale');
    expect(await api(`/v1/jobs/${job.jobId}`)).toMatchObject({
      stale: true,
      decision: { value: 'review', rule: 'stale_at_horizon' },
    });
  });

  it('lists jobs by decision, one value or several', async () => {
    const approved = simulatedJob();
    const rejected = simulatedJob();
    for (const [job, life] of [
      [approved, 'approved'],
      [rejected, 'rejected'],
    ] as const) {
      await register(job);
      await confirm(job, life);
    }
    const ids = async (query: string) => {
      const page = await api(`/v1/jobs?limit=200&${query}`);
      return page.items.map((item: { jobId: string }) => item.jobId);
    };
    expect(await ids('decision=approve')).toContain(approved.jobId);
    expect(await ids('decision=approve')).not.toContain(rejected.jobId);
    expect(await ids('decision=review,reject')).toContain(rejected.jobId);
    const refused = await t.app.inject({
      method: 'GET',
      url: '/v1/jobs?decision=maybe',
      headers: { authorization: `Bearer ${API_TOKEN}` },
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().error.code).toBe('VALIDATION_FAILED');
  });
});

describe('decisions under another policy', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ env: { DECISION_POLICY_FILE: 'policies/examples/strict.yaml' } });
  });
  afterAll(() => t?.close());

  it('decides by the country a registration gave, under the policy DECISION_POLICY_FILE names', async () => {
    const decisionOf = async (country: string) => {
      const job = simulatedJob();
      const registered = await t.app.inject({
        method: 'POST',
        url: '/v1/jobs',
        headers: { authorization: `Bearer ${API_TOKEN}` },
        payload: { jobId: job.jobId, userId: job.userId, jobType: 1, idType: 'NIN', country },
      });
      expect(registered.statusCode).toBe(201);
      const body = { ...jobStatusAt('approved', job, 10_000_000), timestamp: 'ts', signature: 'sig' };
      const raw = Buffer.from(JSON.stringify(body));
      await createStatusCheck({
        store: createStatusStore({ pool: t.db.pool, cipher: t.cipher, vault: t.storage.vault }),
        client: unreachableSmileId,
        log: silentLogger,
        pollModel: DEFAULT_POLL_MODEL,
        policy: t.config.DECISION_POLICY,
      }).apply(job.jobId, { kind: 'status', body, raw, timestamp: 'ts', signature: 'sig' }, new Date());
      const shown = await t.app.inject({
        method: 'GET',
        url: `/v1/jobs/${job.jobId}`,
        headers: { authorization: `Bearer ${API_TOKEN}` },
      });
      return shown.json().decision;
    };
    expect(t.config.DECISION_POLICY.version).toMatch(/^acme-strict@/);
    expect(await decisionOf('NG')).toMatchObject({
      value: 'approve',
      rule: 'clear_exact_match',
      policyVersion: t.config.DECISION_POLICY.version,
    });
    expect(await decisionOf('ZA')).toMatchObject({
      value: 'review',
      rule: 'fallback',
      reasons: ['not_clearly_approved'],
    });
  });
});
