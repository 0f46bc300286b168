import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { problemResponses } from './routes/problems.ts';

/**
 * The OpenAPI 3.1 document of the public API, generated from the zod schemas the routes
 * validate with, served as JSON at /api/v1/docs/json and as a browsable page at /api/v1/docs.
 * Only /api/v1 routes are documented: health, metrics and admin routes are not the public API.
 * Each operation lists its success and, from the codes its route names (`config.problems`), the
 * problem statuses it can answer with, as application/problem+json with an example of each code.
 * `npm test` lints the document (test/openapi-lint.test.ts) and holds every status the gateway
 * answers in the run against it (test/support/api-statuses.ts).
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
      // The gateway that serves this document serves the API, at the same origin.
      servers: [{ url: '/', description: 'this gateway' }],
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
    },
    transform: (document) => {
      if (!document.url.startsWith('/api/v1/') || document.url.startsWith('/api/v1/docs')) {
        return { schema: { ...document.schema, hide: true }, url: document.url };
      }
      const transformed = jsonSchemaTransform(document);
      const problems = document.route.config?.problems;
      if (!problems) return transformed;
      const response = { ...(transformed.schema.response as Record<string, unknown>), ...problemResponses(problems, '#/components/schemas/Problem') };
      return { ...transformed, schema: { ...transformed.schema, response } };
    },
    transformObject: (document) => withoutUnusedSchemas(jsonSchemaTransformObject(document)),
  });
  await app.register(swaggerUi, { routePrefix: '/api/v1/docs' });
}

/**
 * The zod transform adds an input twin of every named schema (`ProblemInput` beside `Problem`);
 * the twins no operation refers to, directly or through another schema, are left out.
 */
function withoutUnusedSchemas<D extends object>(document: D): D {
  const { components, ...rest } = document as { components?: { schemas?: Record<string, unknown> } };
  const schemas = components?.schemas;
  if (!schemas) return document;
  const refsIn = (value: unknown) => [...JSON.stringify(value).matchAll(/"#\/components\/schemas\/([^"]+)"/g)].map((m) => decodeURIComponent(m[1]!));
  const used = new Set<string>();
  const pending = refsIn(rest);
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    if (used.has(name)) continue;
    used.add(name);
    pending.push(...refsIn(schemas[name]));
  }
  return { ...document, components: { ...components, schemas: Object.fromEntries(Object.entries(schemas).filter(([name]) => used.has(name))) } };
}
