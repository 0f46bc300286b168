import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';

/**
 * The OpenAPI 3.1 document of the public API, generated from the zod schemas the routes
 * validate with, served as JSON at /api/v1/docs/json and as a browsable page at /api/v1/docs.
 * Only /api/v1 routes are documented: health, metrics and admin routes are not the public API.
 */
export async function installApiDocs(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Baton shop API',
        version: '1.0.0',
        description: 'The public API of the Baton shop. Errors are RFC 9457 problem documents (application/problem+json).',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
    },
    transform: (document) => {
      if (!document.url.startsWith('/api/v1/') || document.url.startsWith('/api/v1/docs')) {
        return { schema: { ...document.schema, hide: true }, url: document.url };
      }
      return jsonSchemaTransform(document);
    },
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: '/api/v1/docs' });
}
