import { statusShowsZip } from '../domain/submission.js';
import type { PrepUploadAnswer } from '../smileid/upload-client.js';
import type { PreparedUpload } from '../store/submissions/submission-store.js';
import {
  fail,
  failure,
  fetchStatus,
  partnerParamsOf,
  RetryableSubmissionError,
  type Step,
  type SubmitAttempt,
  uploaded,
} from './submit-attempt.js';

/** The prep upload; its answer is stored before anything is sent to the URL it gives. */
export async function prepare(attempt: SubmitAttempt, retry: boolean): Promise<Step> {
  const answer = await attempt.flow.uploads.prepUpload({
    partnerParams: partnerParamsOf(attempt.submission),
    callbackUrl: attempt.flow.callbackUrl,
    retry,
  });
  return handlePrepared(attempt, answer, retry);
}

async function handlePrepared(
  attempt: SubmitAttempt,
  answer: PrepUploadAnswer,
  retried: boolean,
): Promise<Step> {
  const { flow, submission, log } = attempt;
  const { jobId } = submission;
  switch (answer.kind) {
    case 'prepared': {
      flow.metrics?.submissionCalls.inc({ call: 'prep_upload', result: 'ok' });
      const prepared: PreparedUpload = {
        uploadUrl: answer.uploadUrl,
        smileJobId: answer.smileJobId,
        serverInformation: answer.serverInformation,
        signature: answer.signature,
        timestamp: answer.timestamp,
        retry: retried,
      };
      await flow.store.savePrepared(jobId, prepared, flow.now());
      return { kind: 'prepared', prepared };
    }
    case 'job_exists':
      flow.metrics?.submissionCalls.inc({ call: 'prep_upload', result: 'job_exists' });
      return resolveJobExists(attempt, retried);
    case 'unauthorized':
      flow.metrics?.submissionCalls.inc({ call: 'prep_upload', result: 'unauthorized' });
      log.error(
        { jobId, code: answer.code },
        'Smile ID refused our prep upload signature: check SMILE_PARTNER_ID and SMILE_API_KEYS',
      );
      return {
        kind: 'done',
        outcome: await fail(
          attempt,
          answer.code,
          'Smile ID refused the signature: the partner id or API key is wrong',
        ),
      };
    case 'failed':
      return { kind: 'done', outcome: await failure(attempt, 'prep_upload', answer) };
  }
}

/**
 * 2215: Smile ID already has this job id. Job Status says whether it has the zip too — our own upload
 * whose answer was lost, even when the 2215 answered a `retry: true` sent after its URL expired — or
 * only an earlier prep upload, which a prep upload with `retry: true` replaces. A 2215 to `retry: true`
 * for a job without its zip is not ours to resolve.
 */
async function resolveJobExists(attempt: SubmitAttempt, retried: boolean): Promise<Step> {
  const status = await fetchStatus(attempt);
  if (status.kind === 'failed' && status.retryable) throw new RetryableSubmissionError(status.code);
  if (status.kind !== 'status') {
    return {
      kind: 'done',
      outcome: await fail(
        attempt,
        '2215',
        `Smile ID already has this job id; job_status said ${status.kind}`,
      ),
    };
  }
  if (statusShowsZip(status.body)) {
    return { kind: 'done', outcome: await uploaded(attempt, null) };
  }
  if (retried) {
    return {
      kind: 'done',
      outcome: await fail(attempt, '2215', 'Smile ID already has this job id, even with retry: true'),
    };
  }
  await attempt.flow.store.prepareAgain(attempt.submission.jobId, attempt.flow.now());
  return prepare(attempt, true);
}
