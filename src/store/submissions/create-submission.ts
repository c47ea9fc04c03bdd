import type pg from 'pg';
import type { SubmissionContent } from '../../domain/submission.js';
import type { FieldCipher } from '../../security/field-cipher.js';
import { statement } from '../sql.js';
import { inTransaction } from '../transactions.js';
import { sealContent } from './sealed-content.js';

export type CreateResult = 'created' | 'identical' | 'conflict' | 'job_exists';

const DIGEST_CONTEXT = 'submission-content';

/** The job, created registered and pending; it is first checked once Smile ID has the zip. */
const CREATE_JOB = statement(`
WITH job AS (
  INSERT INTO jobs (job_id, user_id, job_type, id_type, country, registered_at, created_at, updated_at,
                    identity_source, tracked, version)
  VALUES (:jobId, :userId, :jobType::integer, :idType, :country, :at::timestamptz, :at::timestamptz,
          :at::timestamptz, 'registration', true, 1)
  ON CONFLICT (job_id) DO NOTHING
  RETURNING job_id
)
INSERT INTO job_transitions (job_id, from_state, to_state, from_final, to_final, at)
SELECT job_id, NULL, 'pending', NULL, false, :at::timestamptz FROM job
RETURNING job_id`);

const INSERT_SUBMISSION = statement(`
INSERT INTO submissions (job_id, content_digest, digest_key_id, payload, image_count, image_bytes,
                         created_at, updated_at, next_attempt_at)
VALUES (:jobId, :digest, :keyId, :payload, :imageCount::integer, :imageBytes::integer, :at::timestamptz,
        :at::timestamptz, :nextAttemptAt::timestamptz)`);

const READ_DIGEST = statement<'jobId'>(
  'SELECT content_digest AS digest, digest_key_id AS "keyId" FROM submissions WHERE job_id = :jobId',
);

/** A submission accepted: its job registered and its content sealed, in one transaction (see the store's `create`). */
export function createSubmission(
  { pool, cipher }: { pool: pg.Pool; cipher: FieldCipher },
  jobId: string,
  content: SubmissionContent,
  digestParts: readonly string[],
  { at, nextAttemptAt }: { at: Date; nextAttemptAt: Date },
): Promise<CreateResult> {
  return inTransaction(pool, async (client) => {
    const created = await client.query(
      CREATE_JOB.bind({
        jobId,
        userId: content.userId,
        jobType: content.jobType,
        idType: content.idInfo.idType,
        country: content.idInfo.country,
        at,
      }),
    );
    if (created.rowCount === 0) {
      const existing = (await client.query<{ digest: string; keyId: string }>(READ_DIGEST.bind({ jobId })))
        .rows[0];
      if (!existing) return 'job_exists';
      const same = cipher.digestMatches(existing.digest, existing.keyId, DIGEST_CONTEXT, ...digestParts);
      return same ? 'identical' : 'conflict';
    }
    await client.query(
      INSERT_SUBMISSION.bind({
        jobId,
        digest: cipher.digest(DIGEST_CONTEXT, ...digestParts),
        keyId: cipher.currentKeyId,
        payload: sealContent(cipher, jobId, content),
        imageCount: content.images.length,
        imageBytes: content.images.reduce((total, image) => total + image.jpeg.length, 0),
        at,
        nextAttemptAt,
      }),
    );
    return 'created';
  });
}
