// The registry's HTTP application, built from its dependencies so tests can run it
// in-process (app.inject or listen on port 0). Wiring of real connections is in server.ts.

import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifySchema,
} from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { z } from 'zod';
import type { Registry } from 'prom-client';
import type { Logger } from '../common/logger';
import { duplicateKey, stringProblem, textProblem } from '../common/strict-json';
import { registerOpsRoutes, type ReadinessCheck } from '../common/ops-server';
import type { TokenStore } from './tokens/auth';
import type { RegistryConfig } from './config';
import type { Pool } from './core/db';
import { HttpError, type FieldProblem } from './core/errors';
import type { ExposureLogger } from './sdk/exposures';
import type { ChangeHub, PayloadCache } from './sdk/payload';
import { auditRoutes } from './audit/routes';
import { configAsCodeRoutes } from './config-as-code/routes';
import { experimentRoutes } from './experiments/routes';
import { flagRoutes } from './flags/routes';
import { sdkRoutes } from './sdk/routes';
import { segmentRoutes } from './segments/routes';
import { tokenRoutes } from './tokens/routes';
import { resultsFeatures } from './results/plugin';
import { ideasRoutes } from './ideas/routes';
import { loadIdeasSettings } from './ideas/settings';
import { consolePlugin } from './console/plugin';

export interface AppDeps {
  config: Pick<
    RegistryConfig,
    'REGISTRY_ENVIRONMENTS' | 'REGISTRY_BODY_LIMIT_BYTES' | 'REGISTRY_SSE_HEARTBEAT_MS'
  >;
  pool: Pool;
  logger: Logger;
  metrics: Registry;
  tokens: TokenStore;
  payloads: PayloadCache;
  hub: ChangeHub;
  exposures: ExposureLogger;
  readiness: ReadinessCheck[];
  /**
   * Serve the browsable docs at /docs (default true). In-process jest tests turn it off:
   * @fastify/swagger-ui pulls an ESM-only dependency that jest's CommonJS runtime cannot load.
   */
  docsUi?: boolean;
}

/** A request part that failed its zod schema; rendered as 400 with every field path. */
export class RequestValidationError extends Error {
  readonly statusCode = 400;
  constructor(readonly problems: FieldProblem[]) {
    super(problems.map((p) => `${p.path || '(root)'}: ${p.message}`).join('; '));
  }
}

/** PostgreSQL SQLSTATEs that mean the input cannot be stored as data (not a server fault). */
const PG_INPUT_ERRORS: Record<string, string> = {
  '22P05': 'a character (such as U+0000) that text and jsonb cannot hold',
  '22021': 'a byte sequence that is not valid UTF-8',
  '22P02': 'a value of the wrong form for its column',
  '22003': 'a number out of range',
  '22007': 'an invalid date or time',
  '22008': 'a date or time out of range',
  '54001': 'a value nested too deeply',
};

export function problemsOf(error: z.ZodError): FieldProblem[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    loggerInstance: deps.logger.child({ component: 'http' }) as FastifyBaseLogger,
    bodyLimit: deps.config.REGISTRY_BODY_LIMIT_BYTES,
    logController: new LogController({ disableRequestLogging: true }),
    // SSE streams stay open; closing the server must not wait for them.
    forceCloseConnections: true,
  });

  // Route schemas are zod types: validated here (field-path errors), converted to JSON
  // Schema for the OpenAPI document below, and never used for serialisation.
  app.setValidatorCompiler(({ schema }) => {
    const zs = schema as unknown as z.ZodType;
    return (data: unknown) => {
      const result = zs.safeParse(data);
      return result.success
        ? { value: result.data }
        : { error: new RequestValidationError(problemsOf(result.error)) };
    };
  });
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));

  // JSON bodies: Fastify's parser (prototype-poisoning checks), then what PostgreSQL would
  // refuse with a 500 (NUL, lone surrogates) or JSON.parse would change silently (1e400 as
  // null, the last of duplicate keys): 400 with the field path instead.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    parseJson(request, body as string, (err: Error | null, value?: unknown) => {
      if (err) return done(err, undefined);
      const text = body as string;
      const duplicate = typeof value === 'object' && value !== null ? duplicateKey(text) : null;
      if (duplicate) {
        return done(
          new RequestValidationError([
            {
              path: '',
              message: `duplicate key ${JSON.stringify(duplicate.key.slice(0, 64))} at position ${duplicate.position}`,
            },
          ]),
          undefined,
        );
      }
      const problem = textProblem(value, { noNul: true });
      if (problem) return done(new RequestValidationError([problem]), undefined);
      done(null, value);
    });
  });
  // The same for the query string and path parameters (`?actor=a%00b`).
  app.addHook('onRequest', async (request) => {
    for (const [part, values] of [
      ['querystring', request.query],
      ['params', request.params],
    ] as const) {
      for (const [name, v] of Object.entries((values ?? {}) as Record<string, unknown>)) {
        for (const item of Array.isArray(v) ? v : [v]) {
          const bad = typeof item === 'string' ? stringProblem(item, { noNul: true }) : null;
          if (bad) {
            const error = new RequestValidationError([{ path: name, message: bad }]);
            (error as unknown as { validationContext: string }).validationContext = part;
            throw error;
          }
        }
      }
    }
  });

  app.setErrorHandler((err: FastifyError | HttpError | RequestValidationError, request, reply) => {
    if (err instanceof HttpError) {
      return reply.code(err.statusCode).send({ error: err.code, message: err.message, details: err.details });
    }
    if (err instanceof RequestValidationError) {
      const where = (err as unknown as { validationContext?: string }).validationContext ?? 'request';
      return reply.code(400).send({
        error: 'validation_failed',
        message: `invalid ${where}: ${err.message}`,
        details: err.problems,
      });
    }
    // A backstop: input PostgreSQL refuses as data is the client's error, not ours.
    const pgCode = (err as { code?: unknown }).code;
    if (typeof pgCode === 'string' && pgCode in PG_INPUT_ERRORS) {
      return reply.code(400).send({
        error: 'invalid_input',
        message: `the database cannot store this input: ${PG_INPUT_ERRORS[pgCode]}`,
      });
    }
    const status = (err as FastifyError).statusCode ?? 500;
    if (status === 413) {
      return reply.code(413).send({
        error: 'payload_too_large',
        message: `request body exceeds ${deps.config.REGISTRY_BODY_LIMIT_BYTES} bytes`,
      });
    }
    if (status < 500) {
      return reply
        .code(status)
        .send({ error: (err as FastifyError).code ?? 'bad_request', message: err.message });
    }
    request.log.error({ err }, 'request failed');
    return reply.code(500).send({ error: 'internal', message: 'internal error; see the registry logs' });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: 'not_found', message: `no route ${request.method} ${request.url}` }),
  );

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
  if (deps.docsUi !== false) await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  registerOpsRoutes(app, { metrics: deps.metrics, readiness: deps.readiness });
  await app.register(async (scope) => {
    flagRoutes(scope, deps);
    segmentRoutes(scope, deps);
    experimentRoutes(scope, deps);
    auditRoutes(scope, deps);
    tokenRoutes(scope, deps);
    configAsCodeRoutes(scope, deps);
    sdkRoutes(scope, deps);
    resultsFeatures(scope, deps);
    await scope.register(ideasRoutes, {
      pool: deps.pool,
      tokens: deps.tokens,
      environments: deps.config.REGISTRY_ENVIRONMENTS,
      settings: loadIdeasSettings(),
    });
    await scope.register(consolePlugin, { tokens: deps.tokens });
  });
  return app;
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
