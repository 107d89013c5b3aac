// Renders every error as `{ error, code, message, details }`: catalogue errors (core/errors.ts)
// as they are, and everything else mapped onto a catalogue entry first.

import type { FastifyError, FastifyInstance } from 'fastify';
import { ERR, RegistryError } from '../core/errors';
import { RequestValidationError } from './validation';

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

/** The response body of a catalogue error. */
export function errorBody(err: RegistryError) {
  return { error: err.error, code: err.code, message: err.message, details: err.details };
}

/** The catalogue error an error thrown while handling a request stands for. */
export function toRegistryError(err: unknown, bodyLimitBytes: number): RegistryError {
  if (err instanceof RegistryError) return err;
  if (err instanceof RequestValidationError) {
    const where = (err as unknown as { validationContext?: string }).validationContext ?? 'request';
    return ERR.INVALID_REQUEST({ part: where, problems: err.message }, err.problems);
  }
  // A backstop: input PostgreSQL refuses as data is the client's error, not ours.
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && code in PG_INPUT_ERRORS) {
    return ERR.INVALID_INPUT({ reason: PG_INPUT_ERRORS[code]! });
  }
  const status = (err as FastifyError).statusCode ?? 500;
  if (status === 413) return ERR.PAYLOAD_TOO_LARGE({ limit: bodyLimitBytes });
  if (status < 500) {
    return ERR.REQUEST_REFUSED.withStatus(status, (err as FastifyError).code, (err as Error).message);
  }
  return ERR.INTERNAL();
}

export function installErrorHandler(app: FastifyInstance, bodyLimitBytes: number): void {
  app.setErrorHandler((err, request, reply) => {
    const error = toRegistryError(err, bodyLimitBytes);
    if (error.statusCode >= 500 && !(err instanceof RegistryError)) {
      request.log.error({ err }, 'request failed');
    }
    return reply.code(error.statusCode).send(errorBody(error));
  });
  app.setNotFoundHandler((request, reply) => {
    const error = ERR.ROUTE_NOT_FOUND({ method: request.method, url: request.url });
    return reply.code(error.statusCode).send(errorBody(error));
  });
}
