import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idInfoCallback, resultCallback, simulatedJob } from '../../src/simulator/callbacks.js';
import { signed } from '../helpers/callbacks.js';
import {
  eventually,
  startService,
  startSimulator,
  type TestService,
  type TestSimulator,
} from '../helpers/service.js';

/** The value of one sample in Prometheus text, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (wanted.every((pair) => line.includes(pair))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('GET /metrics', () => {
  let sim: TestSimulator;
  let service: TestService;
  let text = '';
  const job = simulatedJob();
  const silent = simulatedJob();
  const stale = simulatedJob();

  beforeAll(async () => {
    sim = await startSimulator();
    service = await startService(sim.url);
    const post = (body: unknown) =>
      fetch(`${service.baseUrl}/callbacks/smile-id`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    await sim.control('/jobs', { jobId: job.jobId, userId: job.userId, life: 'approved' });
    await sim.control('/jobs', { jobId: silent.jobId, userId: silent.userId, life: 'rejected' });
    const result = JSON.stringify(signed(resultCallback(job)));
    await post(result);
    await post(result);
    await post(signed(idInfoCallback(job)));
    // Signed a day ago: untrusted, and it stays so, because its one job_status look cannot be believed.
    await sim.control('/jobs', {
      jobId: stale.jobId,
      userId: stale.userId,
      life: 'approved',
      faults: { badSignature: true },
    });
    await post(signed(resultCallback(stale), new Date(Date.now() - 86_400_000).toISOString()));
    await post({
      ...resultCallback(job),
      timestamp: new Date().toISOString(),
      signature: `${'A'.repeat(43)}=`,
    });
    await post('{not json');
    await service.api('POST', '/v1/jobs', { jobId: silent.jobId, userId: silent.userId });
    await service.api('POST', `/v1/jobs/${silent.jobId}/reconcile`);
    await eventually(async () => (await service.api('GET', `/v1/jobs/${silent.jobId}`)).body.confirmed);
    await eventually(async () => (await service.api('GET', `/v1/jobs/${job.jobId}`)).body.confirmed);
    text = await (await fetch(`${service.baseUrl}/metrics`)).text();
  });
  afterAll(async () => {
    await service.close();
    await sim.close();
  });

  it('counts callbacks by kind and outcome', () => {
    expect(
      sample(text, 'smileid_callbacks_total', { kind: 'result', outcome: 'accepted' }),
    ).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'smileid_callbacks_total', { kind: 'result', outcome: 'duplicate' })).toBe(1);
    expect(sample(text, 'smileid_callbacks_total', { kind: 'result', outcome: 'untrusted' })).toBe(1);
    // At least ours: a test elsewhere whose simulator still delivers to a port this service now holds
    // adds its own, signed with the same test key. Each accepted one is measured once.
    const idInfo = sample(text, 'smileid_callbacks_total', { kind: 'id_info', outcome: 'accepted' });
    expect(idInfo).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'smileid_callback_body_bytes_count', { kind: 'id_info' })).toBe(idInfo);
  });

  it('counts refusals by reason and signature failures', () => {
    expect(sample(text, 'smileid_callback_rejections_total', { reason: 'SIGNATURE_INVALID' })).toBe(1);
    expect(sample(text, 'smileid_callback_rejections_total', { reason: 'INVALID_JSON' })).toBe(1);
    expect(
      sample(text, 'smileid_signature_failures_total', { source: 'callback', reason: 'signature_mismatch' }),
    ).toBe(1);
  });

  it('times requests by route template, never by raw path', () => {
    expect(
      sample(text, 'smileid_http_request_duration_seconds_count', {
        route: '/callbacks/smile-id',
        status_code: '200',
      }),
    ).toBeGreaterThanOrEqual(4);
    expect(
      sample(text, 'smileid_http_request_duration_seconds_count', { route: '/v1/jobs/:jobId' }),
    ).toBeGreaterThan(0);
  });

  it('reports transitions, time to final, status checks and Smile ID latency', () => {
    expect(
      sample(text, 'smileid_job_transitions_total', { from: 'none', to: 'approved', final: 'true' }),
    ).toBeGreaterThan(0);
    expect(sample(text, 'smileid_job_transitions_total', { from: 'pending', to: 'rejected' })).toBe(1);
    expect(sample(text, 'smileid_job_time_to_final_seconds_count')).toBeGreaterThanOrEqual(2);
    expect(sample(text, 'smileid_status_checks_total', { outcome: 'applied' })).toBeGreaterThanOrEqual(2);
    expect(
      sample(text, 'smileid_api_request_duration_seconds_count', { result: 'status' }),
    ).toBeGreaterThanOrEqual(2);
  });

  it('counts the decisions the policy made by value and reason, and exports the review queue beside its SLA', () => {
    // The rejected job, once job_status confirmed it.
    expect(sample(text, 'smileid_decisions_total', { decision: 'reject' })).toBeGreaterThanOrEqual(1);
    expect(
      sample(text, 'smileid_decision_reasons_total', { decision: 'reject', reason: 'rejected' }),
    ).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'smileid_reviews_settled_total', { decision: 'approve' })).toBe(0);
    expect(sample(text, 'smileid_reviews_reopened_total')).toBe(0);
    expect(sample(text, 'smileid_review_queue_jobs')).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'smileid_review_oldest_seconds')).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'smileid_review_sla_seconds')).toBe(24 * 3600);
  });

  it('reports jobs by state and flags from Postgres, and queue depth from Redis', () => {
    expect(sample(text, 'smileid_jobs', { state: 'approved', final: 'true' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'smileid_jobs_flagged', { flag: 'untrusted' })).toBeGreaterThanOrEqual(1);
    expect(
      sample(text, 'smileid_queue_jobs', { queue: 'status-checks', state: 'waiting' }),
    ).toBeGreaterThanOrEqual(0);
  });

  it('carries no job id, user id or identity data in any label', () => {
    for (const value of [
      job.jobId,
      job.userId,
      silent.jobId,
      stale.jobId,
      job.fullName,
      job.idNumber,
      job.dob,
    ]) {
      expect(text).not.toContain(value);
    }
  });
});
