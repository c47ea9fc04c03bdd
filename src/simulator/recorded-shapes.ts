import { isRecord } from '../util/is-record.js';

/**
 * Bodies recorded from Smile ID's own SDKs and docs (test/fixtures/smileid/), replayed for a job of the
 * simulator: every `PartnerParams` in the body, at any depth (result, history entries), is pointed at the
 * job, so one recorded shape can be played for any job id and user.
 */
export function forJob<T>(body: T, job: { jobId: string; userId: string }): T {
  if (Array.isArray(body)) return body.map((item) => forJob(item, job)) as T;
  if (body === null || typeof body !== 'object') return body;
  return Object.fromEntries(
    Object.entries(body).map(([key, value]) => [
      key,
      key === 'PartnerParams' && isRecord(value)
        ? { ...value, job_id: job.jobId, user_id: job.userId }
        : forJob(value, job),
    ]),
  ) as T;
}
