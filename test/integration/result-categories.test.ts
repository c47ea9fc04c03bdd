import { describe, expect, it } from 'vitest';
import { simulatedJob } from '../../src/simulator/callbacks.js';
import { jobWhen, simulatedService } from '../helpers/service.js';

/**
 * Smile ID's result categories (approved, provisionally approved in its forms, rejected, general
 * failure), each played by the simulator: callbacks delivered to the service, job_status answered.
 */
describe('result categories as Smile ID defines them', () => {
  const running = simulatedService();

  const play = async (life: string, extra: Record<string, unknown> = {}) => {
    const job = simulatedJob();
    await running.sim.control('/jobs', { jobId: job.jobId, userId: job.userId, life, ...extra });
    await running.service.api('POST', '/v1/jobs', { jobId: job.jobId, userId: job.userId, jobType: 1 });
    await running.sim.control(`/jobs/${job.jobId}/deliver`, {
      callbackUrl: `${running.service.baseUrl}/callbacks/smile-id`,
    });
    return job;
  };

  it('keeps a Pure Provisional provisional, never rejected, and flagged while its code is unknown', async () => {
    const job = await play('pure_provisional', { reviewDelayMs: 60_000 });
    const shown = await jobWhen(running.service, job.jobId, (current) => current.confirmed);
    expect(shown).toMatchObject({
      state: 'provisional',
      isFinal: false,
      resultCode: '0899',
      needsConfirmation: true,
    });
  });

  it('shows Pending Approval as provisional and final, as Smile ID says', async () => {
    const job = await play('pending_approval');
    const shown = await jobWhen(running.service, job.jobId, (current) => current.confirmed);
    expect(shown).toMatchObject({
      state: 'provisional',
      isFinal: true,
      resultCode: '0814',
      needsConfirmation: false,
    });
  });

  it('shows a general failure as failed, from its code, though job_success is false', async () => {
    const job = await play('failed');
    const shown = await jobWhen(running.service, job.jobId, (current) => current.confirmed);
    expect(shown).toMatchObject({ state: 'failed', isFinal: true, resultCode: '1015' });
  });

  it('shows a rejection and an approval with what Smile ID said of them', async () => {
    const rejected = await play('rejected');
    const approved = await play('suspects');
    expect(await jobWhen(running.service, rejected.jobId, (current) => current.confirmed)).toMatchObject({
      state: 'rejected',
      resultCode: '0907',
      resultType: 'SAIA',
      confidenceValue: 0,
    });
    expect(await jobWhen(running.service, approved.jobId, (current) => current.confirmed)).toMatchObject({
      state: 'approved',
      isMachineResult: true,
      confidenceValue: 99,
      smileSecure: expect.objectContaining({ code: '5211', meaning: 'suspects_found' }),
    });
  });
});
