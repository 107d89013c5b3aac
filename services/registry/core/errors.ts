/** An error with an HTTP status and a stable machine-readable code; the error handler renders it. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export interface FieldProblem {
  path: string;
  message: string;
}

export const badRequest = (message: string, details?: FieldProblem[]) =>
  new HttpError(400, 'validation_failed', message, details);
export const notFound = (what: string) => new HttpError(404, 'not_found', `${what} not found`);
export const conflict = (code: string, message: string, details?: unknown) =>
  new HttpError(409, code, message, details);
