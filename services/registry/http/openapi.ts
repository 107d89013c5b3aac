// The OpenAPI document (GET /openapi.json) and the browsable docs (/docs), generated from the
// zod schemas of the routes.

import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifySchema } from 'fastify';
import { z } from 'zod';

export async function registerOpenApi(app: FastifyInstance, options: { docsUi: boolean }): Promise<void> {
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'xp registry',
        version: '1.0.0',
        description:
          'Feature flags, experiments and their governance. Authenticate with "Authorization: Bearer <token>".',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: ({ schema, url }) => ({ schema: toJsonSchemas(schema), url }),
  });
  if (options.docsUi) await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}

/** zod schemas of a route → JSON Schemas for @fastify/swagger; other keys pass through. */
function toJsonSchemas(schema: FastifySchema | undefined): FastifySchema {
  if (!schema) return {};
  const out: Record<string, unknown> = {};
  for (const [part, value] of Object.entries(schema)) {
    if (part === 'response' && value && typeof value === 'object') {
      out[part] = Object.fromEntries(Object.entries(value).map(([code, s]) => [code, convert(s, 'output')]));
    } else {
      out[part] = convert(value, 'input');
    }
  }
  return out as FastifySchema;
}

function convert(value: unknown, io: 'input' | 'output'): unknown {
  if (!(value instanceof z.ZodType)) return value;
  const json = z.toJSONSchema(value, { target: 'openapi-3.0', io, unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  delete json.$schema;
  return json;
}
