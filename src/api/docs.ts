import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';

export const DOCS_PREFIX = '/docs';

/**
 * The OpenAPI document (GET /docs/json) and its UI (GET /docs), generated from the routes' zod schemas.
 * Registered on the root instance, before the routes, so that it sees every route added after it; it
 * needs no token (DOCS_ENABLED turns it off, and does by default in production).
 */
export async function registerDocs(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'smileid-callbacks internal API',
        description:
          'Merged Smile ID Biometric KYC outcomes and their evidence. Bearer tokens from ' +
          'INTERNAL_API_TOKENS read outcomes; tokens from INTERNAL_PII_TOKENS may also read identity ' +
          'data (`include=idInfo`, `include=body`), and every such read is audited. Errors are ' +
          '`{"error": {"code", "message"}}`.',
        version: 'v1',
      },
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } },
      },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: DOCS_PREFIX });
}
