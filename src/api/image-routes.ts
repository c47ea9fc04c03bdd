import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CodedError, type Refusal } from '../http/coded-error.js';
import type { JobStatusAnswer } from '../smileid/job-status-client.js';
import { auditIdentityRead, requireIdentityReader } from './audited-read.js';
import { BEARER_ROUTE, type RouteContext } from './route-context.js';
import { errorResponses, jobParamsSchema } from './schemas.js';

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

/** A job_status answer that is not a verified status, as the refusal this route answers with. */
function refusal(answer: Exclude<JobStatusAnswer, { kind: 'status' }>): Refusal {
  switch (answer.kind) {
    case 'bad_signature':
      return { code: 'SMILE_ID_BAD_SIGNATURE' };
    case 'unauthorized':
      return { code: 'SMILE_ID_UNAUTHORIZED', smileCode: answer.code };
    case 'failed':
      if (answer.code === 'timeout') return { code: 'SMILE_ID_UNAVAILABLE', variant: 'timeout' };
      if (answer.retryable) return { code: 'SMILE_ID_UNAVAILABLE', variant: 'failed' };
      return { code: 'SMILE_ID_ERROR', smileCode: answer.code };
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
        description:
          'PII token, or a review token while the job is in review; the read is audited. Links expire as ' +
          'Smile ID decides.',
        params: jobParamsSchema,
        response: {
          200: imagesSchema,
          ...errorResponses(
            'PII_FORBIDDEN',
            'JOB_NOT_FOUND',
            'NO_USER_ID',
            'SMILE_ID_BAD_SIGNATURE',
            'SMILE_ID_UNAUTHORIZED',
            'SMILE_ID_ERROR',
            'SMILE_ID_UNAVAILABLE',
          ),
        },
      },
    },
    async (request) => {
      const { jobId } = request.params;
      requireIdentityReader(context.callerOf(request), 'images');
      const job = await context.jobs.read(jobId, { withIdInfo: false });
      if (!job) throw new CodedError({ code: 'JOB_NOT_FOUND' });
      const { userId } = job.outcome;
      if (userId === null) throw new CodedError({ code: 'NO_USER_ID' });
      const recorded = await auditIdentityRead(context, request, jobId, 'images');
      if (!recorded) throw new CodedError({ code: 'JOB_NOT_FOUND' });

      const answer = await context.jobStatus.fetchStatus(userId, jobId, {
        imageLinks: true,
        history: false,
      });
      if (answer.kind !== 'status') throw new CodedError(refusal(answer));
      const fetchedAt = context.now().toISOString();
      const links = imageLinksAnswer.safeParse(answer.body.image_links);
      if (!links.success) return { jobId, fetchedAt, imageLinks: null, error: null };
      if ('error' in links.data) return { jobId, fetchedAt, imageLinks: null, error: links.data.error };
      return { jobId, fetchedAt, imageLinks: links.data, error: null };
    },
  );
};
