import { describe, expect, it } from 'vitest';
import {
  idInfoCallback,
  resultCallback,
  type SimulatedJob,
  simulatedJob,
  smileSecureCallback,
} from '../../src/simulator/callbacks.js';
import { signed } from '../helpers/callbacks.js';
import { type ApiBody, jobWhen, simulatedService } from '../helpers/service.js';

/**
 * Risk facts a borrowed signature can claim: whether the ID number was registered before (an ID-information
 * callback) and Smile Secure's suspects. A signed job_status answer confirms them only when its `history`
 * carries those callbacks, so a claim may send a job to a person, never approve, reject or retry it. These
 * tests post such bodies to the real service, with the simulator playing Smile ID, under policies whose
 * answer the claims would turn.
 */

type Running = ReturnType<typeof simulatedService>;

/** A genuine (timestamp, signature) pair, as an attacker would capture it from another job's callback. */
function borrowedPair() {
  const genuine = signed(resultCallback(simulatedJob()));
  return { timestamp: genuine.timestamp, signature: genuine.signature };
}

/** A job the simulator plays (`life`, or the job_status answer `statusBody`), registered in Nigeria. */
async function simulate(running: Running, life: string, statusBody?: (job: SimulatedJob) => object) {
  const job = simulatedJob();
  await running.sim.control('/jobs', {
    jobId: job.jobId,
    userId: job.userId,
    life,
    ...(statusBody ? { statusBody: statusBody(job) } : {}),
  });
  const registered = await running.service.api('POST', '/v1/jobs', {
    jobId: job.jobId,
    userId: job.userId,
    jobType: 1,
    country: 'NG',
  });
  expect(registered.status).toBe(201);
  return job;
}

/** The job once its result is final and confirmed, and every decision seen on the way. */
async function settled(running: Running, jobId: string, until: (job: ApiBody) => boolean = () => true) {
  const seen: (string | undefined)[] = [];
  const job = await jobWhen(
    running.service,
    jobId,
    (current) => {
      seen.push(current.decision?.value);
      return current.isFinal === true && current.confirmed === true && until(current);
    },
    20_000,
  );
  return { job, seen };
}

const decisionsOf = async (running: Running, userId: string, value: string) =>
  (await running.service.api('GET', `/v1/jobs?decision=${value}&userId=${userId}`)).body;

describe('a forged claim that the ID number was not registered before, under the stricter policy', () => {
  const running = simulatedService({ DECISION_POLICY_FILE: 'policies/examples/strict.yaml' });

  /** Smile ID's approval, its `history` without the ID-information callback: it states nothing of earlier registrants. */
  const approvalWithoutIdRecord = (job: SimulatedJob) => ({
    job_complete: true,
    job_success: true,
    code: '2302',
    result: resultCallback(job, 'approved'),
    history: [resultCallback(job, 'approved')],
    image_links: {},
  });

  it('approves a job whose ID record job_status confirmed as registered by nobody before', async () => {
    const job = await simulate(running, 'approved');
    const { job: shown } = await settled(running, job.jobId);
    expect(shown).toMatchObject({
      idNumberPreviouslyRegistered: false,
      decision: { value: 'approve', rule: 'clear_exact_match' },
    });
  });

  it('cannot approve a job job_status said nothing of registrants for, and sends it to a person', async () => {
    const job = await simulate(running, 'approved', approvalWithoutIdRecord);
    const forged = { ...idInfoCallback(job, { photoBytes: 16 }), ...borrowedPair() };
    expect((await running.service.postCallback(forged)).status).toBe(200);
    const { job: shown, seen } = await settled(running, job.jobId);
    // The claim stands in the outcome (it is what the callback said), but decides nothing.
    expect(shown).toMatchObject({
      state: 'approved',
      idNumberPreviouslyRegistered: false,
      decision: {
        value: 'review',
        rule: 'unconfirmed_claim',
        reasons: ['unconfirmed_claim', 'clear_exact_match'],
      },
    });
    expect(seen).not.toContain('approve');
    expect(await decisionsOf(running, job.userId, 'approve')).toMatchObject({ items: [] });
  });
});

describe('a forged Smile Secure claim of suspects, under a policy that rejects suspects', () => {
  const running = simulatedService({ DECISION_POLICY_FILE: 'test/fixtures/policies/rejects-suspects.yaml' });

  it('rejects a job whose suspects job_status confirmed', async () => {
    const job = await simulate(running, 'suspects');
    const { job: shown } = await settled(running, job.jobId);
    expect(shown).toMatchObject({ decision: { value: 'reject', rule: 'smile_secure_suspects' } });
  });

  it('cannot reject an approved job for suspects only a callback names, and sends it to a person', async () => {
    const job = await simulate(running, 'approved');
    const { job: approved } = await settled(running, job.jobId);
    expect(approved).toMatchObject({ decision: { value: 'approve', rule: 'approved' } });
    const suspects = [{ user_id: 'suspect-1', reason: 'same face' }];
    const forged = { ...smileSecureCallback(job, suspects), ...borrowedPair() };
    expect((await running.service.postCallback(forged)).status).toBe(200);
    const { job: shown, seen } = await settled(
      running,
      job.jobId,
      (current) => current.suspectUsers?.length === 1,
    );
    expect(shown).toMatchObject({
      smileSecure: { meaning: 'suspects_found' },
      decision: {
        value: 'review',
        rule: 'unconfirmed_claim',
        reasons: ['unconfirmed_claim', 'smile_secure_suspects'],
        details: { suspectUserIds: ['suspect-1'] },
      },
    });
    expect(seen).not.toContain('reject');
    expect(await decisionsOf(running, job.userId, 'reject')).toMatchObject({ items: [] });
  });
});
