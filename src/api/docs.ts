import swagger, { type SwaggerTransformObject } from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';

export const DOCS_PREFIX = '/docs';

const SCHEMA_REF = '#/components/schemas/';

/**
 * The type provider's components, less those no route refers to: it names every registered schema
 * twice (`Job` and `JobInput`), though our responses use only the first.
 */
const transformObject: SwaggerTransformObject = (documentObject) => {
  const document = jsonSchemaTransformObject(documentObject) as {
    paths?: unknown;
    components?: { schemas?: Record<string, unknown> };
  };
  const schemas = document.components?.schemas ?? {};
  const used = new Set<string>();
  const visit = (value: unknown): void => {
    if (value === null || typeof value !== 'object') return;
    for (const [key, child] of Object.entries(value)) {
      const name =
        key === '$ref' &&
        typeof child === 'string' &&
        child.startsWith(SCHEMA_REF) &&
        child.slice(SCHEMA_REF.length);
      if (!name) visit(child);
      else if (!used.has(name)) {
        used.add(name);
        visit(schemas[name]);
      }
    }
  };
  visit(document.paths);
  const kept = Object.fromEntries(Object.entries(schemas).filter(([name]) => used.has(name)));
  return {
    ...document,
    components: { ...document.components, schemas: kept },
  } as ReturnType<SwaggerTransformObject>;
};

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
          'data (`include=idInfo`, `include=body`), and every such read is audited. Tokens from ' +
          'INTERNAL_REVIEW_TOKENS settle reviews (`POST /v1/jobs/{jobId}/review`) and read the identity ' +
          'data of a job in review, audited too. Errors are `{"error": {"code", "message"}}`.',
        version: 'v1',
      },
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } },
      },
    },
    transform: jsonSchemaTransform,
    transformObject,
  });
  await app.register(swaggerUi, { routePrefix: DOCS_PREFIX });
}
