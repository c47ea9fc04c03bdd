import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  decodeImages,
  RESERVED_PARTNER_PARAMS,
  type SubmissionContent,
  type SubmissionImageType,
} from '../domain/submission.js';
import { CodedError } from '../http/coded-error.js';
import { presentSubmission } from './present-job.js';
import { BEARER_ROUTE, type RouteContext } from './route-context.js';
import { errorResponses, jobIdSchema, submissionSchema, text, userIdSchema } from './schemas.js';

const IMAGE_TYPES = [
  'selfie',
  'liveness',
  'idCardFront',
  'idCardBack',
] as const satisfies readonly SubmissionImageType[];

const enteredIdInfoSchema = z
  .strictObject({
    country: z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code, e.g. NG'),
    idType: z.string().regex(/^[A-Z0-9_]{1,50}$/, 'must be a Smile ID id_type, e.g. NIN, BVN, NATIONAL_ID'),
    idNumber: text(100),
    firstName: text(100).optional(),
    middleName: text(100).optional(),
    lastName: text(100).optional(),
    dob: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD')
      .optional(),
    phoneNumber: z
      .string()
      .regex(/^\+?[0-9 ()-]{5,30}$/, 'must be a phone number')
      .optional(),
    entered: z
      .literal(true)
      .optional()
      .describe(
        'Always true: the user entered these details, and Smile ID verifies them with the ID authority',
      ),
  })
  .describe("The ID details the user entered, checked against the ID authority's record");

const submissionRequestSchema = z.strictObject({
  jobId: jobIdSchema
    .optional()
    .describe(
      'Your job id; generated when absent. Send your own to retry safely: the same request answers 200',
    ),
  userId: userIdSchema,
  jobType: z.literal(1).describe('1: Biometric KYC'),
  idInfo: enteredIdInfoSchema,
  images: z
    .array(
      z.strictObject({
        type: z.enum(IMAGE_TYPES),
        // Checked by the handler (domain/submission.ts decodeImages): its size from its length before it is
        // decoded, then strict base64 in linear time, then its JPEG structure.
        jpegBase64: z
          .string()
          .min(4)
          .meta({ contentEncoding: 'base64', contentMediaType: 'image/jpeg' })
          .describe('The JPEG in strict base64: the standard alphabet with padding, no data: prefix'),
      }),
    )
    .min(1)
    .max(11)
    .describe('Exactly one selfie, up to 8 liveness images, at most one ID card front and back; JPEG only'),
  partnerParams: z
    .record(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'keys are letters, digits, _ and -'), text(500))
    .refine((params) => Object.keys(params).length <= 20, 'at most 20 partner params')
    .refine(
      (params) => Object.keys(params).every((key) => !RESERVED_PARTNER_PARAMS.has(key)),
      'job_id, user_id and job_type are set from the submission itself',
    )
    .optional()
    .describe('Extra PartnerParams, strings; Smile ID returns them in its callbacks'),
});

const acceptedSchema = z.object({ jobId: z.string(), submission: submissionSchema });

/** POST /v1/submissions: a Biometric KYC job for the workers to submit to Smile ID. */
export const submissionRoutes: FastifyPluginAsyncZod<RouteContext> = async (api, context) => {
  const { submissions, jobs } = context;
  api.post(
    '/v1/submissions',
    {
      config: context.routeConfig,
      bodyLimit: submissions.maxBytes,
      schema: {
        ...BEARER_ROUTE,
        summary: 'Submit a Biometric KYC job to Smile ID',
        description:
          'Stores the request durably (its identity data and images sealed) and answers 202; a worker then ' +
          'sends the prep upload, the zip and its upload, and the job is tracked like any other. The same ' +
          'request with the same `jobId` answers 200 with the same job; other content under that `jobId` ' +
          'answers 409. Images are deleted once Smile ID has them.',
        body: submissionRequestSchema,
        response: {
          200: acceptedSchema,
          202: acceptedSchema,
          ...errorResponses(
            'IMAGE_COUNT',
            'IMAGE_NOT_JPEG',
            'IMAGE_TOO_LARGE',
            'SUBMISSION_CONFLICT',
            'JOB_ID_IN_USE',
            'BODY_TOO_LARGE',
            'SUBMISSIONS_NOT_CONFIGURED',
          ),
        },
      },
    },
    async (request, reply) => {
      if (!submissions.configured) {
        throw new CodedError({ code: 'SUBMISSIONS_NOT_CONFIGURED' });
      }
      const { jobId, userId, idInfo, images, partnerParams = {} } = request.body;
      const decoded = decodeImages(images, { maxImageBytes: submissions.maxImageBytes });
      if ('problem' in decoded) {
        const { problem } = decoded;
        // Invalid base64 was the schema's refusal before the handler checked it: its code stays the same.
        if (problem.code === 'IMAGE_NOT_BASE64') {
          const must = `images.${problem.index}.jpegBase64 must be base64 (no data: prefix)`;
          throw new CodedError({ code: 'VALIDATION_FAILED', where: 'body', problem: must });
        }
        throw new CodedError(problem);
      }
      const { entered: _entered, ...enteredIdInfo } = idInfo;
      const content: SubmissionContent = {
        userId,
        jobType: 1,
        idInfo: enteredIdInfo,
        images: decoded.images,
        partnerParams,
      };

      const accepted = await submissions.intake.accept(
        { jobId, content },
        {
          onEnqueueFailed: (error) =>
            request.log.warn({ err: error, jobId }, 'could not queue the submission now; the sweep will'),
        },
      );
      if (accepted.kind === 'conflict') throw new CodedError({ code: 'SUBMISSION_CONFLICT' });
      if (accepted.kind === 'job_exists') throw new CodedError({ code: 'JOB_ID_IN_USE' });
      const job = await jobs.read(accepted.jobId, { withIdInfo: false });
      if (!job?.submission) throw new Error('a stored submission could not be read back');
      if (accepted.kind === 'created') context.metrics?.submissions.inc({ event: 'accepted' });
      return reply
        .code(accepted.kind === 'created' ? 202 : 200)
        .send({ jobId: accepted.jobId, submission: presentSubmission(job.submission) });
    },
  );
};
