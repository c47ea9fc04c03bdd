import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CodedError } from '../http/coded-error.js';
import { bigintDigits } from '../util/bigint-id.js';
import { requireAdminAccess } from './bearer-auth.js';
import { BEARER_ROUTE, type RouteContext } from './route-context.js';
import { errorResponses, queryLimit } from './schemas.js';

const dateTime = z.string().meta({ format: 'date-time' });
const deliveryIdSchema = bigintDigits('must be a delivery id').regex(/^[1-9]/, 'must be a delivery id');
const deadLetterCursor = z.strictObject({ id: deliveryIdSchema });

const deadLetterSchema = z
  .object({
    id: z.string(),
    endpoint: z.string().describe('The endpoint’s URL'),
    event: z.string().describe('`job.updated` or `job.finalized`'),
    jobId: z.string(),
    messageId: z.string().describe('The `webhook-id` it was sent with, and will be again'),
    attempts: z.number().int(),
    lastError: z.string().nullable(),
    lastStatus: z.number().int().nullable(),
    createdAt: dateTime,
    deadAt: dateTime,
  })
  .meta({ id: 'DeadLetter' });

const endpointSchema = z
  .object({
    id: z.number().int(),
    url: z.string(),
    disabledAt: dateTime.nullable().describe('Set when the endpoint answered 410 Gone'),
    disabledReason: z.string().nullable(),
    configuredAt: dateTime.describe('When a worker last found the endpoint in its NOTIFY_WEBHOOK_URLS'),
    retired: z
      .boolean()
      .describe('No worker has listed it for 15 minutes: nothing is sent to it, and it may be removed'),
    failures: z
      .number()
      .int()
      .describe(
        'Attempts in a row that got no answer, or 429, 502, 503 or 504; while above 0, one delivery at a time',
      ),
    backoffUntil: dateTime
      .nullable()
      .describe('Nothing is sent to it before this: its backoff, or what its Retry-After asked'),
    pending: z.number().int(),
    dead: z.number().int(),
  })
  .meta({ id: 'WebhookEndpoint' });

const notFound = (what: 'dead letter' | 'endpoint') => new CodedError({ code: 'NOT_FOUND', what });
const retired = () => new CodedError({ code: 'ENDPOINT_RETIRED' });

const endpointParams = z.strictObject({
  id: z
    .string()
    .regex(/^[1-9]\d{0,8}$/, 'must be an endpoint id')
    .transform(Number),
});

/** Every route here is an operator's: it says so, and answers 403 to any other token. */
const ADMIN_ONLY =
  'Needs a token from `INTERNAL_ADMIN_TOKENS`; any other token gets `403 ADMIN_FORBIDDEN`. ' +
  'Dead letters carry what receivers answered, and endpoints their URLs.';

/**
 * Webhooks seen from operations: dead letters and their redelivery, endpoints and their re-enabling.
 * Operator scope only: an ordinary or PII token could otherwise re-enable what an operator disabled,
 * resend messages, and read internal URLs and receivers' error texts.
 */
export const notificationRoutes: FastifyPluginAsyncZod<RouteContext> = async (api, context) => {
  const { notifications, now } = context;
  const config = context.routeConfig;
  const route = { ...BEARER_ROUTE, tags: ['notifications'], description: ADMIN_ONLY };
  // Before validation: a caller without the scope learns nothing of these routes' parameters.
  api.addHook('preValidation', async (request) => requireAdminAccess(context.callerOf(request)));

  api.get(
    '/v1/notifications/dead-letters',
    {
      config,
      schema: {
        ...route,
        summary: 'Webhook deliveries that exhausted their retries',
        querystring: z.strictObject({
          limit: queryLimit(200).optional(),
          cursor: context.cursors.schema('dead-letters', deadLetterCursor).optional(),
        }),
        response: {
          200: z.object({ items: z.array(deadLetterSchema), nextCursor: z.string().nullable() }),
          ...errorResponses('ADMIN_FORBIDDEN', 'INVALID_CURSOR'),
        },
      },
    },
    async (request) => {
      const { limit = 50, cursor } = request.query;
      const rows = await notifications.listDead(cursor?.id ?? '0', limit + 1);
      const items = rows.slice(0, limit).map((row) => ({
        ...row,
        createdAt: row.createdAt.toISOString(),
        deadAt: row.deadAt.toISOString(),
      }));
      const last = items.at(-1);
      return {
        items,
        nextCursor:
          rows.length > limit && last ? context.cursors.encode('dead-letters', { id: last.id }) : null,
      };
    },
  );

  api.post(
    '/v1/notifications/dead-letters/:id/redeliver',
    {
      config,
      schema: {
        ...route,
        summary: 'Send a dead letter again, with the same webhook-id, and a new retry window',
        params: z.strictObject({ id: deliveryIdSchema }),
        response: {
          202: z.object({ id: z.string(), status: z.literal('pending') }),
          ...errorResponses('ADMIN_FORBIDDEN', 'NOT_FOUND', 'ENDPOINT_RETIRED'),
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const redelivered = await notifications.redeliver(id, now());
      if (redelivered === 'not_found') throw notFound('dead letter');
      if (redelivered === 'retired') throw retired();
      request.log.info({ deliveryId: id }, 'dead letter queued for redelivery');
      return reply.code(202).send({ id, status: 'pending' as const });
    },
  );

  api.get(
    '/v1/notifications/endpoints',
    {
      config,
      schema: {
        ...route,
        summary: 'Webhook endpoints, with what waits for each',
        response: { 200: z.object({ items: z.array(endpointSchema) }), ...errorResponses('ADMIN_FORBIDDEN') },
      },
    },
    async () => ({
      items: (await notifications.listEndpoints(now())).map((endpoint) => ({
        ...endpoint,
        disabledAt: endpoint.disabledAt?.toISOString() ?? null,
        configuredAt: endpoint.configuredAt.toISOString(),
        backoffUntil: endpoint.backoffUntil?.toISOString() ?? null,
      })),
    }),
  );

  api.post(
    '/v1/notifications/endpoints/:id/enable',
    {
      config,
      schema: {
        ...route,
        summary: 'Enable an endpoint disabled by 410 Gone; what waited for it is sent in order',
        params: endpointParams,
        response: {
          200: z.object({ id: z.number().int(), enabled: z.literal(true) }),
          ...errorResponses('ADMIN_FORBIDDEN', 'NOT_FOUND', 'ENDPOINT_RETIRED'),
        },
      },
    },
    async (request) => {
      const { id } = request.params;
      const enabled = await notifications.enableEndpoint(id, now());
      if (enabled === 'not_found') throw notFound('endpoint');
      if (enabled === 'retired') throw retired();
      request.log.info({ endpointId: id }, 'webhook endpoint enabled');
      return { id, enabled: true as const };
    },
  );

  api.delete(
    '/v1/notifications/endpoints/:id',
    {
      config,
      schema: {
        ...route,
        summary: 'Remove a retired endpoint (no longer configured) with the deliveries that wait for it',
        params: endpointParams,
        response: {
          200: z.object({
            id: z.number().int(),
            removed: z.literal(true),
            pending: z.number().int().describe('Deliveries that waited for it, now removed'),
            dead: z.number().int().describe('Its dead letters, now removed'),
          }),
          ...errorResponses('ADMIN_FORBIDDEN', 'NOT_FOUND', 'ENDPOINT_CONFIGURED'),
        },
      },
    },
    async (request) => {
      const { id } = request.params;
      const removal = await notifications.removeRetiredEndpoint(id, now());
      if (removal.kind === 'not_found') throw notFound('endpoint');
      if (removal.kind === 'configured') throw new CodedError({ code: 'ENDPOINT_CONFIGURED' });
      request.log.info(
        { endpointId: id, pending: removal.pending, dead: removal.dead },
        'webhook endpoint removed',
      );
      return { id, removed: true as const, pending: removal.pending, dead: removal.dead };
    },
  );
};
