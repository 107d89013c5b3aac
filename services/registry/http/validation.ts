// Request validation: route schemas are zod types (validated here with field-path errors; the
// OpenAPI document is generated from them in openapi.ts), and JSON bodies, query strings and
// path parameters are refused when they hold what PostgreSQL cannot store or JSON.parse would
// change silently. Every refusal is a RequestValidationError, rendered by errors.ts.

import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { duplicateKey, stringProblem, textProblem } from '../../common/strict-json';
import type { FieldProblem } from '../core/errors';

/** A request part that failed its zod schema; rendered as 400 with every field path. */
export class RequestValidationError extends Error {
  readonly statusCode = 400;
  constructor(readonly problems: FieldProblem[]) {
    super(problems.map((p) => `${p.path || '(root)'}: ${p.message}`).join('; '));
  }
}

export function problemsOf(error: z.ZodError): FieldProblem[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
}

export function installValidation(app: FastifyInstance): void {
  // Route schemas are zod types: validated here (field-path errors), converted to JSON
  // Schema for the OpenAPI document, and never used for serialisation.
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
}
