import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { HttpError } from '../http/errors.js';
import type { JobStatusAnswer } from '../smileid/job-status-client.js';
import { auditIdentityRead } from './audited-read.js';
import { requirePiiAccess } from './bearer-auth.js';
import { BEARER_ROUTE, type RouteContext } from './route-context.js';
import { commonErrors, errorSchema, jobParamsSchema } from './schemas.js';

const imagesSchema = z
  .object({
    jobId: z.string(),
    fetchedAt: z.string().meta({ format: 'date-time' }),
    imageLinks: z
      .record(z.string(), z.string())
      .nullable()
      .describe('Smile ID’s signed, short-lived URLs by image name (`selfie_image`, `id_card_image`, …)'),
    error: z.string().nullable().describe('Smile ID’s reason when it gave no links'),
  })
  .meta({ id: 'JobImages', description: 'The image links of a job, as Smile ID gave them just now (PII)' });

/** `image_links` as Smile ID sends it (docs/smile-id.md#job-status-api): links by name, or `{error}`. Non-string values are not links. */
const imageLinksAnswer = z.union([
  z.looseObject({ error: z.string() }),
  z
    .record(z.string(), z.unknown())
    .transform((links) =>
      Object.fromEntries(
        Object.entries(links).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
      ),
    ),
]);

const RETRY_AFTER_SECONDS = '5';
const unavailable = (status: number, message: string) =>
  new HttpError(status, 'SMILE_ID_UNAVAILABLE', message, { 'retry-after': RETRY_AFTER_SECONDS });

/** A job_status answer that is not a verified status, as the error this route answers with. */
function refusal(answer: Exclude<JobStatusAnswer, { kind: 'status' }>): HttpError {
  switch (answer.kind) {
    case 'bad_signature':
      return new HttpError(502, 'SMILE_ID_BAD_SIGNATURE', 'Smile ID’s answer did not verify');
    case 'unauthorized':
      return new HttpError(502, 'SMILE_ID_UNAUTHORIZED', `Smile ID refused our credentials (${answer.code})`);
    case 'failed':
      if (answer.code === 'timeout') return unavailable(504, 'Smile ID did not answer in time');
      if (answer.retryable) return unavailable(502, 'Smile ID is unavailable');
      return new HttpError(502, 'SMILE_ID_ERROR', `Smile ID could not answer (${answer.code})`);
  }
}

/**
 * GET /v1/jobs/:jobId/images: the links Smile ID's job_status gives at this moment. They are signed URLs
 * to photos of a person: passed through to the PII reader and never stored or logged. The read is
 * audited before Smile ID is asked, like any identity-data read.
 */
export const imageRoutes: FastifyPluginAsyncZod<RouteContext> = async (api, context) => {
  api.get(
    '/v1/jobs/:jobId/images',
    {
      config: context.routeConfig,
      schema: {
        ...BEARER_ROUTE,
        summary: "The job's image links, asked of Smile ID job_status now; never stored",
        description: 'PII token only; the read is audited. Links expire as Smile ID decides.',
        params: jobParamsSchema,
        response: {
          200: imagesSchema,
          403: errorSchema,
          404: errorSchema,
          409: errorSchema.describe('The job has no user id, which job_status needs (`NO_USER_ID`)'),
          502: errorSchema.describe(
            'Smile ID unavailable (`SMILE_ID_UNAVAILABLE`, with `Retry-After`), or its answer unusable',
          ),
          504: errorSchema.describe(
            'Smile ID did not answer in time (`SMILE_ID_UNAVAILABLE`, with `Retry-After`)',
          ),
          ...commonErrors,
        },
      },
    },
    async (request) => {
      const { jobId } = request.params;
      requirePiiAccess(context.callerOf(request));
      const job = await context.jobs.read(jobId, { withIdInfo: false });
      if (!job) throw new HttpError(404, 'JOB_NOT_FOUND', 'no job with this id');
      const { userId } = job.outcome;
      if (userId === null) {
        throw new HttpError(
          409,
          'NO_USER_ID',
          'the job has no user id yet; Smile ID cannot be asked about it',
        );
      }
      const recorded = await auditIdentityRead(context, request, jobId, 'images');
      if (!recorded) throw new HttpError(404, 'JOB_NOT_FOUND', 'no job with this id');

      const answer = await context.jobStatus.fetchStatus(userId, jobId, {
        imageLinks: true,
        history: false,
      });
      if (answer.kind !== 'status') throw refusal(answer);
      const fetchedAt = context.now().toISOString();
      const links = imageLinksAnswer.safeParse(answer.body.image_links);
      if (!links.success) return { jobId, fetchedAt, imageLinks: null, error: null };
      if ('error' in links.data) return { jobId, fetchedAt, imageLinks: null, error: links.data.error };
      return { jobId, fetchedAt, imageLinks: links.data, error: null };
    },
  );
};
