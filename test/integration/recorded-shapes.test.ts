import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { simulatedJob } from '../../src/simulator/callbacks.js';
import { forJob } from '../../src/simulator/recorded-shapes.js';
import { signed } from '../helpers/callbacks.js';
import { type ApiBody, jobWhen, simulatedService } from '../helpers/service.js';

/**
 * Payloads recorded from Smile ID's own SDKs and docs (test/fixtures/smileid/, sources in SOURCES.md),
 * each pointed at a fresh job and sent to the real service: as a signed callback, and, for job_status
 * answers, served by the simulator so that the reconciler fetches, verifies and merges them.
 */
const recorded = (file: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../fixtures/smileid/${file}`, import.meta.url), 'utf8'));

type Expected = Partial<Record<keyof ApiBody, unknown>>;

/** job_status answers: what each must show once the reconciler has applied it. */
const JOB_STATUS_ANSWERS: [file: string, expected: Expected][] = [
  [
    'node-sdk-job-status-complete-0810.json',
    { state: 'approved', isFinal: true, confirmed: true, resultCode: '0810' },
  ],
  [
    'node-sdk-job-status-incomplete-0810.json',
    { state: 'provisional', isFinal: false, confirmed: true, resultCode: '0810' },
  ],
  [
    'node-sdk-readme-job-status-saia-no-resultcode.json',
    { state: 'approved', isFinal: true, confirmed: true, resultType: 'SAIA' },
  ],
  [
    'python-sdk-job-status-history.json',
    {
      state: 'approved',
      isFinal: true,
      confirmed: true,
      resultCode: '1210',
      partnerParams: {
        optional_info: 'Partner can put whatever they want as long as it is a string',
        more_optional_info: 'There can be as much or as little or no optional info',
      },
    },
  ],
  [
    'python-sdk-readme-job-status-0810-actions.json',
    { state: 'approved', isFinal: true, confirmed: true, resultCode: '0810' },
  ],
  [
    'python-sdk-readme-callback-job-status-shaped.json',
    { state: 'approved', isFinal: true, confirmed: true, resultCode: '0810' },
  ],
  ['php-sdk-job-status-empty-result.json', { state: 'rejected', isFinal: true, confirmed: true }],
  ['ruby-sdk-job-status-complete-no-result.json', { state: 'rejected', isFinal: true, confirmed: true }],
  ['java-sdk-job-status-complete-minimal.json', { state: 'provisional', isFinal: true, confirmed: true }],
  ['java-sdk-job-status-incomplete-minimal.json', { state: 'pending', isFinal: false, confirmed: false }],
  ['java-sdk-job-status-result-string-no-zip.json', { state: 'pending', isFinal: false, confirmed: false }],
  ['android-sdk-job-status-result-string-reconstructed.json', { state: 'pending', isFinal: false }],
];

/** Callbacks: what each must show once stored (a claim: never confirmed by itself). */
const CALLBACKS: [file: string, expected: Expected][] = [
  [
    'android-sdk-job-result-document-verification-0810.json',
    { state: 'approved', isFinal: true, confirmed: false, resultCode: '0810', jobType: 6 },
  ],
  [
    'android-sdk-job-result-biometric-kyc-id-info.json',
    { state: 'pending', idNumberPreviouslyRegistered: null, needsConfirmation: true },
  ],
  [
    'android-sdk-model-biometric-kyc-previously-registered-reconstructed.json',
    {
      idNumberPreviouslyRegistered: true,
      previousRegistrantUserIds: ['PREVIOUS_USER_ID_1', 'PREVIOUS_USER_ID_2'],
    },
  ],
  ['android-sdk-job-result-smart-selfie-code-1.json', { state: 'pending', isFinal: false }],
  ['node-sdk-id-api-response-nan-dates.json', { state: 'pending', idNumberPreviouslyRegistered: null }],
  [
    'node-sdk-readme-callback-1220-authenticated.json',
    { state: 'approved', isFinal: true, confirmed: false, resultCode: '1220', resultType: 'DIVA' },
  ],
  [
    'docs-callback-smile-secure-5211.json',
    { smileSecure: expect.objectContaining({ code: '5211', meaning: 'suspects_found' }) },
  ],
  [
    'java-sdk-model-antifraud-smile-secure-reconstructed.json',
    {
      smileSecure: {
        code: '5211',
        meaning: 'suspects_found',
        suspectUsers: [
          { userId: 'user001', reason: 'same-person' },
          { userId: 'user002', reason: 'same-person' },
        ],
      },
    },
  ],
];

describe('payloads from Smile ID’s SDKs and docs', () => {
  const running = simulatedService();

  const post = (body: Record<string, unknown>) => running.service.postCallback(body);
  const shown = async (jobId: string) => (await running.service.api('GET', `/v1/jobs/${jobId}`)).body;

  it.each(JOB_STATUS_ANSWERS)(
    'reconciles the job_status answer %s into the outcome Smile ID means',
    async (file, expected) => {
      const job = simulatedJob();
      await running.sim.control('/jobs', {
        jobId: job.jobId,
        userId: job.userId,
        life: 'never_started',
        statusBody: recorded(file),
      });
      await running.service.api('POST', '/v1/jobs', { jobId: job.jobId, userId: job.userId, jobType: 1 });
      const checked = await jobWhen(running.service, job.jobId, (current) => current.lastCheckedAt !== null);
      expect(checked).toMatchObject(expected);
    },
  );

  // Only the answers that name their job (PartnerParams) can be a callback: the others are orphans.
  it.each(
    JOB_STATUS_ANSWERS.filter(
      ([file, expected]) =>
        expected.state !== 'pending' && JSON.stringify(recorded(file)).includes('PartnerParams'),
    ),
  )(
    'reads the job_status answer %s, posted as a callback, as the same result unconfirmed',
    async (file, expected) => {
      const job = simulatedJob();
      expect((await post(signed(forJob(recorded(file), job)))).status).toBe(200);
      expect(await shown(job.jobId)).toMatchObject({
        state: expected.state,
        isFinal: expected.isFinal,
        confirmed: false,
      });
    },
  );

  it.each(CALLBACKS)('merges the callback %s as Smile ID means it', async (file, expected) => {
    const job = simulatedJob();
    expect((await post(signed(forJob(recorded(file), job)))).status).toBe(200);
    expect(await shown(job.jobId)).toMatchObject(expected);
  });

  it('refuses the Node SDK README’s sec_key body as unsigned (the legacy scheme is not supported)', async () => {
    const response = await post(
      forJob(recorded('node-sdk-readme-id-api-response-sec-key.json'), simulatedJob()),
    );
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('SIGNATURE_MISSING');
  });

  it('keeps a previously registered ID number when a later result carries ID fields without the flag (Android result model)', async () => {
    const job = simulatedJob();
    await post(
      signed(
        forJob(recorded('android-sdk-model-biometric-kyc-previously-registered-reconstructed.json'), job),
      ),
    );
    await post(signed(forJob(recorded('android-sdk-job-result-biometric-kyc-id-info.json'), job)));
    expect(await shown(job.jobId)).toMatchObject({
      idNumberPreviouslyRegistered: true,
      previousRegistrantUserIds: ['PREVIOUS_USER_ID_1', 'PREVIOUS_USER_ID_2'],
    });
    const listed = await running.service.api(
      'GET',
      `/v1/jobs?idNumberPreviouslyRegistered=true&userId=${job.userId}`,
    );
    expect(
      (listed.body as unknown as { items: { jobId: string }[] }).items.map((item) => item.jobId),
    ).toEqual([job.jobId]);
  });

  it('takes the previously registered flag from the history entry that holds it, through job_status', async () => {
    const job = simulatedJob();
    const answer = recorded('python-sdk-readme-job-status-0810-actions.json');
    const flagged = recorded('android-sdk-model-biometric-kyc-previously-registered-reconstructed.json');
    const withoutFlag = recorded('android-sdk-job-result-biometric-kyc-id-info.json');
    // The ID fields in `result` (no flag), the flag in history, as the Smile ID docs place it.
    const statusBody = {
      ...answer,
      result: { ...(answer.result as object), ...withoutFlag },
      history: [flagged],
    };
    await running.sim.control('/jobs', {
      jobId: job.jobId,
      userId: job.userId,
      life: 'never_started',
      statusBody,
    });
    await running.service.api('POST', '/v1/jobs', { jobId: job.jobId, userId: job.userId });
    const checked = await jobWhen(running.service, job.jobId, (current) => current.lastCheckedAt !== null);
    expect(checked).toMatchObject({ idNumberPreviouslyRegistered: true, confirmed: true });
  });

  it('reports a job no ID record has spoken for as unknown, not false', async () => {
    const job = simulatedJob();
    await post(signed(forJob(recorded('android-sdk-job-result-document-verification-0810.json'), job)));
    const listed = await running.service.api(
      'GET',
      `/v1/jobs?idNumberPreviouslyRegistered=unknown&userId=${job.userId}`,
    );
    expect(
      (listed.body as unknown as { items: { jobId: string }[] }).items.map((item) => item.jobId),
    ).toEqual([job.jobId]);
    expect((await shown(job.jobId)).idNumberPreviouslyRegistered).toBeNull();
  });
});
