import type { FastifyInstance } from 'fastify';
import { CodedError } from '../http/coded-error.js';
import type { Metrics } from '../observability/metrics.js';
import type { Intake } from './intake.js';
import { createSourceAllowlist } from './source-allowlist.js';

export interface CallbackRouteOptions {
  intake: Intake;
  maxBytes: number;
  allowedSources: readonly string[];
  rateLimitPerMinute: number;
  metrics?: Metrics | undefined;
}

/** JSON by any spelling Smile ID might use: application/json, with or without parameters, or +json. */
const JSON_CONTENT_TYPE = /^application\/(?:[\w.-]+\+)?json(?:\s*;.*)?$/i;

/**
 * POST /callbacks/smile-id. Encapsulated so that its parser, which keeps the exact bytes (the event is
 * stored as received, and hashed for deduplication), applies to this route alone.
 */
export async function callbackRoutes(app: FastifyInstance, options: CallbackRouteOptions) {
  const isAllowed = createSourceAllowlist(options.allowedSources);

  app.addHook('onResponse', async (request, reply) => {
    if (reply.statusCode >= 400) {
      options.metrics?.callbackRejections.inc({ reason: request.errorCode ?? `HTTP_${reply.statusCode}` });
    }
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser(JSON_CONTENT_TYPE, { parseAs: 'buffer' }, (_request, body, done) =>
    done(null, body),
  );

  app.post(
    '/callbacks/smile-id',
    {
      bodyLimit: options.maxBytes,
      config: { rateLimit: { max: options.rateLimitPerMinute, timeWindow: '1 minute' } },
      // Checked before the body is read, so a refused source costs no upload.
      onRequest: async (request) => {
        if (!isAllowed(request.ip)) {
          request.log.warn({ sourceIp: request.ip }, 'callback refused: source address not allowed');
          throw new CodedError({ code: 'SOURCE_NOT_ALLOWED' });
        }
      },
    },
    async (request, reply) => {
      if (!Buffer.isBuffer(request.body)) {
        throw new CodedError(
          JSON_CONTENT_TYPE.test(request.headers['content-type'] ?? '')
            ? { code: 'EMPTY_BODY' }
            : { code: 'UNSUPPORTED_MEDIA_TYPE', variant: 'notJson' },
        );
      }
      const result = await options.intake.receive({
        raw: request.body,
        sourceIp: request.ip,
        log: request.log,
      });
      return reply.code(200).send({ status: result.status, eventId: result.eventId });
    },
  );
}
