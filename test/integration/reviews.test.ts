import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { draftDeliveries } from '../../src/notify/messages.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { resultCallback, simulatedJob, smileSecureCallback } from '../../src/simulator/callbacks.js';
import { suspectOf } from '../../src/simulator/job-lives.js';
import { createChangeFeed, FEED_START } from '../../src/store/feed/change-feed.js';
import {
  ADMIN_TOKEN,
  API_TOKEN,
  createTestApp,
  PII_TOKEN,
  REVIEW_TOKEN,
  TEST_CURSORS,
  type TestApp,
} from '../helpers/app.js';
import { postCallback, signed } from '../helpers/callbacks.js';
import {
  approvedWithRegistrants,
  approvedWithSuspects,
  decisionDriver,
  lifeAnswer,
} from '../helpers/decisions.js';
import { expectErrorBody } from '../helpers/http.js';
import { bearer } from '../http/api-fixtures.js';

const fingerprint = (token: string) => createHash('sha256').update(token).digest('hex').slice(0, 16);

/**
 * People settle what the policy sends to review (POST /v1/jobs/:jobId/review, GET /v1/reviews): with a
 * review token only, while the job is in review, audited; a person's decision stands until Smile ID's
 * confirmed evidence changes the policy's answer. Against the real database, with the default policy.
 */
describe('reviews', () => {
  let t: TestApp;
  const metrics = createMetrics({ defaultMetrics: false });
  let drive: ReturnType<typeof decisionDriver>;

  beforeAll(async () => {
    t = await createTestApp({ metrics });
    drive = decisionDriver(t, { metrics });
  });
  afterAll(() => t?.close());

  const get = async (url: string, token = API_TOKEN) =>
    t.app.inject({ method: 'GET', url, headers: bearer(token) });
  const job = async (jobId: string, token = API_TOKEN) => (await get(`/v1/jobs/${jobId}`, token)).json();
  const review = (jobId: string, body: Record<string, unknown>, token = REVIEW_TOKEN) =>
    t.app.inject({ method: 'POST', url: `/v1/jobs/${jobId}/review`, headers: bearer(token), payload: body });
  /** A registered job the default policy sends to review: another user registered its ID number before. */
  const inReview = async () => {
    const seen = simulatedJob();
    expect((await drive.register(seen)).statusCode).toBe(201);
    await drive.answer(seen, approvedWithRegistrants(seen, ['user-registered-before']));
    expect((await job(seen.jobId)).decision).toMatchObject({
      value: 'review',
      rule: 'previously_registered_by_others',
    });
    return seen;
  };
  const auditRows = async (jobId: string) =>
    (
      await t.db.pool.query<Record<string, unknown>>(
        'SELECT * FROM audit_log WHERE job_id = $1 ORDER BY id',
        [jobId],
      )
    ).rows;
  const counted = async (name: string, labels: Record<string, string> = {}) => {
    const metric = await metrics.registry.getSingleMetric(name)?.get();
    const value = metric?.values.find((sample) =>
      Object.entries(labels).every(([key, label]) => sample.labels[key] === label),
    );
    return value?.value ?? 0;
  };

  it('lets a review token approve a job in review: the operator’s decision, Smile ID’s evidence untouched', async () => {
    const seen = await inReview();
    const before = await job(seen.jobId);
    const settledBefore = await counted('smileid_reviews_settled_total', { decision: 'approve' });
    const response = await review(seen.jobId, {
      decision: 'approve',
      reason: 'same_person_reenrolled',
      note: 'Checked with the customer on the phone.',
    });
    expect(response.statusCode, response.body).toBe(200);
    const after = response.json();
    expect(after.decision).toEqual({
      value: 'approve',
      reasons: ['same_person_reenrolled'],
      details: { previousRegistrantUserIds: ['user-registered-before'] },
      source: 'operator',
      rule: 'previously_registered_by_others',
      policyVersion: before.decision.policyVersion,
      decidedAt: expect.any(String),
    });
    expect(await job(seen.jobId)).toEqual(after);
    const { decision: _before, updatedAt: _u1, ...evidenceBefore } = before;
    const { decision: _after, updatedAt: _u2, ...evidenceAfter } = after;
    expect(evidenceAfter).toEqual(evidenceBefore);
    expect(JSON.stringify(after)).not.toContain('Checked with the customer');
    expect(await counted('smileid_reviews_settled_total', { decision: 'approve' })).toBe(settledBefore + 1);
  });

  it('writes the review to the audit trail: the token’s fingerprint, the time, the reason, the note and the decision it replaced', async () => {
    const seen = await inReview();
    const replaced = (await job(seen.jobId)).decision;
    const startedAt = Date.now();
    await review(seen.jobId, { decision: 'reject', reason: 'identity_theft', note: 'Two people, one ID.' });
    const [row, ...others] = await auditRows(seen.jobId);
    expect(others).toEqual([]);
    expect(row).toMatchObject({
      token_fingerprint: fingerprint(REVIEW_TOKEN),
      data_read: 'review',
      route: 'POST /v1/jobs/:jobId/review',
      request_id: expect.any(String),
      details: {
        decision: 'reject',
        reason: 'identity_theft',
        note: 'Two people, one ID.',
        replaced: {
          value: 'review',
          reasons: replaced.reasons,
          details: replaced.details,
          source: 'policy',
          rule: 'previously_registered_by_others',
          policyVersion: replaced.policyVersion,
          decidedAt: replaced.decidedAt,
        },
      },
    });
    expect((row!.at as Date).getTime()).toBeGreaterThanOrEqual(startedAt - 5);
    expect((await job(seen.jobId)).decision.decidedAt).toBe((row!.at as Date).toISOString());
  });

  it('puts the operator’s decision in the change feed, with a job.decided webhook', async () => {
    const seen = await inReview();
    await review(seen.jobId, { decision: 'approve', reason: 'documents_match' });
    const changes = (await createChangeFeed({ pool: t.db.pool }).read(FEED_START, 10_000)).filter(
      (change) => change.jobId === seen.jobId,
    );
    const last = changes.at(-1)!;
    expect(last.fromDecision).toMatchObject({ value: 'review', source: 'policy' });
    expect(last.outcome.decision).toMatchObject({
      value: 'approve',
      source: 'operator',
      reasons: ['documents_match'],
    });
    expect(draftDeliveries([last], TEST_CURSORS).map((delivery) => delivery.event)).toEqual([
      'job.updated',
      'job.decided',
    ]);
    const feed = (await get('/v1/changes?limit=1000')).json();
    const item = feed.items.filter((change: { jobId: string }) => change.jobId === seen.jobId).at(-1);
    expect(item).toMatchObject({
      fromDecision: 'review',
      decision: { value: 'approve', source: 'operator' },
    });
  });

  it('refuses ordinary, PII and admin tokens with 403, before looking at the body or the job', async () => {
    const seen = await inReview();
    for (const token of [API_TOKEN, PII_TOKEN, ADMIN_TOKEN]) {
      expectErrorBody(
        await review(seen.jobId, { decision: 'approve', reason: 'looks_fine' }, token),
        403,
        'REVIEW_FORBIDDEN',
      );
      expectErrorBody(await review(seen.jobId, { nonsense: true }, token), 403, 'REVIEW_FORBIDDEN');
      expectErrorBody(await review('no-such-job', { decision: 'approve' }, token), 403, 'REVIEW_FORBIDDEN');
    }
    expect((await job(seen.jobId)).decision).toMatchObject({ value: 'review', source: 'policy' });
    expect(await auditRows(seen.jobId)).toEqual([]);
    const anonymous = await t.app.inject({
      method: 'POST',
      url: `/v1/jobs/${seen.jobId}/review`,
      payload: { decision: 'approve', reason: 'looks_fine' },
    });
    expectErrorBody(anonymous, 401, 'UNAUTHENTICATED');
  });

  it('answers 409 NOT_IN_REVIEW outside review: pending, decided by the policy, or settled already', async () => {
    const pending = simulatedJob();
    await drive.register(pending);
    expectErrorBody(await review(pending.jobId, { decision: 'approve', reason: 'x' }), 409, 'NOT_IN_REVIEW');
    const approved = simulatedJob();
    await drive.register(approved);
    await drive.answer(approved, lifeAnswer(approved, 'approved'));
    expect((await job(approved.jobId)).decision.value).toBe('approve');
    expectErrorBody(await review(approved.jobId, { decision: 'reject', reason: 'x' }), 409, 'NOT_IN_REVIEW');
    const settled = await inReview();
    expect((await review(settled.jobId, { decision: 'reject', reason: 'fraud' })).statusCode).toBe(200);
    expectErrorBody(
      await review(settled.jobId, { decision: 'approve', reason: 'changed_my_mind' }),
      409,
      'NOT_IN_REVIEW',
    );
    expect((await job(settled.jobId)).decision).toMatchObject({ value: 'reject', reasons: ['fraud'] });
    expect((await auditRows(settled.jobId)).length).toBe(1);
    expect((await auditRows(pending.jobId)).length).toBe(0);
    expectErrorBody(await review('no-such-job', { decision: 'approve', reason: 'x' }), 404, 'JOB_NOT_FOUND');
  });

  it('refuses a decision other than approve or reject, a reason that is not one snake_case word, and unknown fields', async () => {
    const seen = await inReview();
    for (const body of [
      { decision: 'review', reason: 'unsure' },
      { decision: 'retry', reason: 'again' },
      { decision: 'approve', reason: 'Looks fine to me' },
      { decision: 'approve' },
      { decision: 'approve', reason: 'fine', note: '' },
      { decision: 'approve', reason: 'fine', source: 'policy' },
    ]) {
      expectErrorBody(await review(seen.jobId, body), 400, 'VALIDATION_FAILED');
    }
    expect((await job(seen.jobId)).decision.value).toBe('review');
  });

  it('keeps an operator’s approval through re-derivations that do not change the policy’s answer', async () => {
    const seen = await inReview();
    await review(seen.jobId, { decision: 'approve', reason: 'same_person_reenrolled' });
    const approved = (await job(seen.jobId)).decision;
    // The same confirmed answer again, a repeated callback, a registration again: the evidence is rewritten
    // and the decision derived again each time, and the policy's answer is still the one the person saw.
    await drive.answer(seen, approvedWithRegistrants(seen, ['user-registered-before']));
    expect((await postCallback(t.app, signed(resultCallback(seen, 'approved')))).statusCode).toBe(200);
    expect((await drive.register(seen)).statusCode).toBe(200);
    expect((await job(seen.jobId)).decision).toEqual(approved);
  });

  it('sends an operator’s approval back to review when Smile ID confirms evidence that changes the policy’s answer, and counts it', async () => {
    const seen = simulatedJob();
    await drive.register(seen);
    await drive.answer(seen, approvedWithSuspects(seen));
    expect((await job(seen.jobId)).decision).toMatchObject({
      value: 'review',
      rule: 'smile_secure_suspects',
    });
    await review(seen.jobId, { decision: 'approve', reason: 'suspect_is_a_twin' });
    const reopenedBefore = await counted('smileid_reviews_reopened_total');

    // Only claimed by a callback, not confirmed: the person's decision stands.
    const second = { user_id: 'user-second-suspect', reason: 'Selfie matches' };
    await postCallback(t.app, signed(smileSecureCallback(seen, [suspectOf(seen), second])));
    expect((await job(seen.jobId)).decision).toMatchObject({ value: 'approve', source: 'operator' });

    // Confirmed by job_status: Smile Secure names another suspect the person never saw.
    await drive.answer(seen, approvedWithSuspects(seen, [suspectOf(seen), second]));
    const reopened = await job(seen.jobId);
    expect(reopened.suspectUsers.map((suspect: { userId: string }) => suspect.userId)).toContain(
      'user-second-suspect',
    );
    expect(reopened.decision).toMatchObject({
      value: 'review',
      source: 'policy',
      rule: 'evidence_changed_since_review',
      reasons: ['evidence_changed_since_review', 'smile_secure_suspects'],
    });
    expect(reopened.decision.details.suspectUserIds).toContain('user-second-suspect');
    expect(await counted('smileid_reviews_reopened_total')).toBe(reopenedBefore + 1);

    // It waits for a person again, who may settle it.
    const queue = (await get('/v1/reviews?limit=200')).json();
    expect(queue.items.map((item: { jobId: string }) => item.jobId)).toContain(seen.jobId);
    expect((await review(seen.jobId, { decision: 'reject', reason: 'fraud_ring' })).statusCode).toBe(200);
  });

  it('sends an operator’s rejection back to review when job_status clears what the person rejected', async () => {
    const seen = await inReview();
    await review(seen.jobId, { decision: 'reject', reason: 'duplicate_identity' });
    await drive.answer(seen, approvedWithRegistrants(seen, []));
    expect((await job(seen.jobId)).decision).toMatchObject({
      value: 'review',
      rule: 'evidence_changed_since_review',
      reasons: ['evidence_changed_since_review', 'approved'],
    });
  });
});

describe('GET /v1/reviews', () => {
  let t: TestApp;
  let drive: ReturnType<typeof decisionDriver>;

  beforeAll(async () => {
    t = await createTestApp();
    drive = decisionDriver(t);
  });
  afterAll(() => t?.close());

  const page = async (query: string) =>
    t.app.inject({ method: 'GET', url: `/v1/reviews?${query}`, headers: bearer(API_TOKEN) });

  it('lists the jobs in review oldest first with their reasons, a page at a time, and drops one once settled', async () => {
    const jobs = [simulatedJob(), simulatedJob(), simulatedJob()];
    for (const seen of jobs) {
      await drive.register(seen);
      await drive.answer(seen, approvedWithRegistrants(seen, ['user-before']));
    }
    const approved = simulatedJob();
    await drive.register(approved);
    await drive.answer(approved, lifeAnswer(approved, 'approved'));
    // Those already waiting in this database come first; ours are the newest reviews.
    const all: { jobId: string; decision: { value: string; reasons: string[]; decidedAt: string } }[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const response = await page(`limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(response.statusCode, response.body).toBe(200);
      const body = response.json();
      expect(body.items.length).toBeLessThanOrEqual(2);
      all.push(...body.items);
      cursor = body.nextCursor;
    }
    const ours = all.filter((item) => jobs.some((seen) => seen.jobId === item.jobId));
    expect(ours.map((item) => item.jobId)).toEqual(jobs.map((seen) => seen.jobId));
    expect(all.every((item) => item.decision.value === 'review')).toBe(true);
    expect(all.map((item) => item.jobId)).not.toContain(approved.jobId);
    expect(ours[0]!.decision.reasons).toEqual(['previously_registered_by_others']);
    const times = all.map((item) => Date.parse(item.decision.decidedAt));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(new Set(all.map((item) => item.jobId)).size).toBe(all.length);

    await t.app.inject({
      method: 'POST',
      url: `/v1/jobs/${jobs[1]!.jobId}/review`,
      headers: bearer(REVIEW_TOKEN),
      payload: { decision: 'approve', reason: 'documents_match' },
    });
    const after = (await page('limit=200')).json();
    const left = after.items.map((item: { jobId: string }) => item.jobId);
    expect(left).toContain(jobs[0]!.jobId);
    expect(left).not.toContain(jobs[1]!.jobId);
  });

  it('refuses a cursor another listing issued', async () => {
    const jobsCursor = TEST_CURSORS.encode('jobs', { seq: '1' });
    expectErrorBody(await page(`cursor=${jobsCursor}`), 400, 'INVALID_CURSOR');
  });
});

describe('what a review token may read', () => {
  let t: TestApp;
  let drive: ReturnType<typeof decisionDriver>;

  beforeAll(async () => {
    t = await createTestApp();
    drive = decisionDriver(t);
  });
  afterAll(() => t?.close());

  const get = (url: string) => t.app.inject({ method: 'GET', url, headers: bearer(REVIEW_TOKEN) });
  const auditRows = async (jobId: string) =>
    (
      await t.db.pool.query<{ data_read: string; token_fingerprint: string }>(
        'SELECT data_read, token_fingerprint FROM audit_log WHERE job_id = $1 ORDER BY id',
        [jobId],
      )
    ).rows;
  const decided = async (life: 'registrants' | 'approved') => {
    const seen = simulatedJob();
    await drive.register(seen);
    await drive.answer(
      seen,
      life === 'approved' ? lifeAnswer(seen, 'approved') : approvedWithRegistrants(seen, ['user-before']),
    );
    return seen;
  };

  it('reads the identity data of a job in review, audited like a PII read', async () => {
    const seen = await decided('registrants');
    const response = await get(`/v1/jobs/${seen.jobId}?include=idInfo`);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().idInfo).toMatchObject({ idNumber: seen.idNumber, fullName: seen.fullName });
    expect(await auditRows(seen.jobId)).toEqual([
      { data_read: 'idInfo', token_fingerprint: fingerprint(REVIEW_TOKEN) },
    ]);
  });

  it('cannot read the identity data of a job not in review, nor of one once its review is settled', async () => {
    const approved = await decided('approved');
    expectErrorBody(await get(`/v1/jobs/${approved.jobId}?include=idInfo`), 403, 'PII_FORBIDDEN');
    expect(await auditRows(approved.jobId)).toEqual([]);

    const settled = await decided('registrants');
    await t.app.inject({
      method: 'POST',
      url: `/v1/jobs/${settled.jobId}/review`,
      headers: bearer(REVIEW_TOKEN),
      payload: { decision: 'reject', reason: 'duplicate_identity' },
    });
    expectErrorBody(await get(`/v1/jobs/${settled.jobId}?include=idInfo`), 403, 'PII_FORBIDDEN');
    expect((await auditRows(settled.jobId)).map((row) => row.data_read)).toEqual(['review']);
    expectErrorBody(await get('/v1/jobs/no-such-job?include=idInfo'), 404, 'JOB_NOT_FOUND');
  });

  it('reads the outcome of any job, as an API token does, but nothing else a PII token may', async () => {
    const seen = await decided('registrants');
    const plain = await get(`/v1/jobs/${seen.jobId}`);
    expect(plain.statusCode).toBe(200);
    expect(plain.json().idInfo).toBeUndefined();
    expectErrorBody(await get(`/v1/jobs/${seen.jobId}/events?include=body`), 403, 'PII_FORBIDDEN');
    const erasure = await t.app.inject({
      method: 'DELETE',
      url: `/v1/users/${seen.userId}/identity-data`,
      headers: bearer(REVIEW_TOKEN),
    });
    expectErrorBody(erasure, 403, 'PII_FORBIDDEN');
    expect(await auditRows(seen.jobId)).toEqual([]);
  });
});
