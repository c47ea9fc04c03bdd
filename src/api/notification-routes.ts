import type { FastifyBaseLogger } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CodedError } from '../http/coded-error.js';
import { requireAdminAccess } from './bearer-auth.js';
import {
  deadLetterPageSchema,
  deadLetterParams,
  deadLettersQuerySchema,
  endpointParams,
  endpointRemovedSchema,
  endpointSchema,
} from './notification-schemas.js';
import { deadLetterPage, presentEndpoint } from './present-notification.js';
import { BEARER_ROUTE, type RouteContext } from './route-context.js';
import { errorResponses } from './schemas.js';

/** Every route here is an operator's: it says so, and answers 403 to any other token. */
const ADMIN_ONLY =
  'Needs a token from `INTERNAL_ADMIN_TOKENS`; any other token gets `403 ADMIN_FORBIDDEN`. ' +
  'Dead letters carry what receivers answered, and endpoints their URLs.';
const ADMIN_ROUTE = { ...BEARER_ROUTE, tags: ['notifications'], description: ADMIN_ONLY };

const notFound = (what: 'dead letter' | 'endpoint') => new CodedError({ code: 'NOT_FOUND', what });
const retired = () => new CodedError({ code: 'ENDPOINT_RETIRED' });

/**
 * Webhooks seen from operations: dead letters and their redelivery, endpoints and their re-enabling.
 * Operator scope only: an ordinary or PII token could otherwise re-enable what an operator disabled,
 * resend messages, and read internal URLs and receivers' error texts.
 */
export const notificationRoutes: FastifyPluginAsyncZod<RouteContext> = async (api, context) => {
  const config = context.routeConfig;
  // Before validation: a caller without the scope learns nothing of these routes' parameters.
  api.addHook('preValidation', async (request) => requireAdminAccess(context.callerOf(request)));

  api.get(
    '/v1/notifications/dead-letters',
    {
      config,
      schema: {
        ...ADMIN_ROUTE,
        summary: 'Webhook deliveries that exhausted their retries',
        querystring: deadLettersQuerySchema(context.cursors),
        response: { 200: deadLetterPageSchema, ...errorResponses('ADMIN_FORBIDDEN', 'INVALID_CURSOR') },
      },
    },
    async (request) => listDeadLetters(context, request.query),
  );

  api.post(
    '/v1/notifications/dead-letters/:id/redeliver',
    {
      config,
      schema: {
        ...ADMIN_ROUTE,
        summary: 'Send a dead letter again, with the same webhook-id, and a new retry window',
        params: deadLetterParams,
        response: {
          202: z.object({ id: z.string(), status: z.literal('pending') }),
          ...errorResponses('ADMIN_FORBIDDEN', 'NOT_FOUND', 'ENDPOINT_RETIRED'),
        },
      },
    },
    async (request, reply) =>
      reply.code(202).send(await redeliverDeadLetter(context, request.params.id, request.log)),
  );

  api.get(
    '/v1/notifications/endpoints',
    {
      config,
      schema: {
        ...ADMIN_ROUTE,
        summary: 'Webhook endpoints, with what waits for each',
        response: { 200: z.object({ items: z.array(endpointSchema) }), ...errorResponses('ADMIN_FORBIDDEN') },
      },
    },
    async () => listEndpoints(context),
  );

  api.post(
    '/v1/notifications/endpoints/:id/enable',
    {
      config,
      schema: {
        ...ADMIN_ROUTE,
        summary: 'Enable an endpoint disabled by 410 Gone; what waited for it is sent in order',
        params: endpointParams,
        response: {
          200: z.object({ id: z.number().int(), enabled: z.literal(true) }),
          ...errorResponses('ADMIN_FORBIDDEN', 'NOT_FOUND', 'ENDPOINT_RETIRED'),
        },
      },
    },
    async (request) => enableEndpoint(context, request.params.id, request.log),
  );

  api.delete(
    '/v1/notifications/endpoints/:id',
    {
      config,
      schema: {
        ...ADMIN_ROUTE,
        summary: 'Remove a retired endpoint (no longer configured) with the deliveries that wait for it',
        params: endpointParams,
        response: {
          200: endpointRemovedSchema,
          ...errorResponses('ADMIN_FORBIDDEN', 'NOT_FOUND', 'ENDPOINT_CONFIGURED'),
        },
      },
    },
    async (request) => removeEndpoint(context, request.params.id, request.log),
  );
};

async function listDeadLetters(
  { notifications, cursors }: RouteContext,
  { limit = 50, cursor }: { limit?: number | undefined; cursor?: { id: string } | undefined },
) {
  const rows = await notifications.listDead(cursor?.id ?? '0', limit + 1);
  return deadLetterPage(rows, limit, (id) => cursors.encode('dead-letters', { id }));
}

async function redeliverDeadLetter({ notifications, now }: RouteContext, id: string, log: FastifyBaseLogger) {
  const redelivered = await notifications.redeliver(id, now());
  if (redelivered === 'not_found') throw notFound('dead letter');
  if (redelivered === 'retired') throw retired();
  log.info({ deliveryId: id }, 'dead letter queued for redelivery');
  return { id, status: 'pending' as const };
}

async function listEndpoints({ notifications, now }: RouteContext) {
  return { items: (await notifications.listEndpoints(now())).map(presentEndpoint) };
}

async function enableEndpoint({ notifications, now }: RouteContext, id: number, log: FastifyBaseLogger) {
  const enabled = await notifications.enableEndpoint(id, now());
  if (enabled === 'not_found') throw notFound('endpoint');
  if (enabled === 'retired') throw retired();
  log.info({ endpointId: id }, 'webhook endpoint enabled');
  return { id, enabled: true as const };
}

async function removeEndpoint({ notifications, now }: RouteContext, id: number, log: FastifyBaseLogger) {
  const removal = await notifications.removeRetiredEndpoint(id, now());
  if (removal.kind === 'not_found') throw notFound('endpoint');
  if (removal.kind === 'configured') throw new CodedError({ code: 'ENDPOINT_CONFIGURED' });
  log.info({ endpointId: id, pending: removal.pending, dead: removal.dead }, 'webhook endpoint removed');
  return { id, removed: true as const, pending: removal.pending, dead: removal.dead };
}
