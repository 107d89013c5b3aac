// The registry's error catalogue: every error the API answers, each with a stable code (like
// Fastify's FST_ERR_*), its HTTP status, the short `error` name clients have always matched on,
// and a message template. Code throws `ERR.NOT_FOUND({ what: 'flag "x"' })`; the error handler
// (http/errors.ts) renders it as `{ error, code, message, details }`. The table in
// services/registry/README.md is generated from this file (test/unit/registry/error-catalogue.test.ts).

/** A field that failed a check: its dotted path and what is wrong with it. */
export interface FieldProblem {
  path: string;
  message: string;
}

/** The `{name}` placeholders of a message template, as the parameters its constructor needs. */
type Params<T extends string> = T extends `${string}{${infer Name}}${infer Rest}`
  ? { [K in Name | keyof Params<Rest>]: string | number }
  : Record<never, never>;

/** An error of the catalogue: what the error handler renders. */
export class RegistryError extends Error {
  constructor(
    /** The stable catalogue code, e.g. XP_REGISTRY_NOT_FOUND. */
    readonly code: string,
    readonly statusCode: number,
    /** The short name in the body's `error` field, e.g. not_found. */
    readonly error: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'RegistryError';
  }
}

export interface CatalogueEntry<T extends string = string> {
  code: string;
  /** The HTTP status; 0 for the one entry that keeps the status Fastify chose (4xx). */
  status: number;
  error: string;
  template: T;
  description: string;
}

export type ErrorFactory<T extends string> = CatalogueEntry<T> &
  ((
    ...args: keyof Params<T> extends never ? [params?: Params<T>, details?: unknown] : [Params<T>, unknown?]
  ) => RegistryError);

function entry<T extends string>(
  code: string,
  status: number,
  error: string,
  template: T,
  description: string,
): ErrorFactory<T> {
  const make = (params?: Record<string, string | number>, details?: unknown) =>
    new RegistryError(code, status, error, format(template, params ?? {}), details);
  return Object.assign(make, { code, status, error, template, description }) as ErrorFactory<T>;
}

/** `{name}` → params.name; a placeholder without a value is left as it is. */
export function format(template: string, params: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}

/** Every error the registry answers. Add new ones here, never `new RegistryError(...)` elsewhere. */
export const ERR = {
  // 400: the request, or what it describes, is invalid.
  INVALID_REQUEST: entry(
    'XP_REGISTRY_INVALID_REQUEST',
    400,
    'validation_failed',
    'invalid {part}: {problems}',
    'A body, query string or path parameter fails its schema or holds what the database cannot store (NUL, lone surrogates, 1e400, duplicate keys); details: every field path',
  ),
  INVALID_ENTITY: entry(
    'XP_REGISTRY_INVALID_ENTITY',
    400,
    'validation_failed',
    'invalid {what}: {problems}',
    'A flag, segment, experiment or idea fails a semantic check (types, unknown references, regexes); details: every field path',
  ),
  INVALID_CONFIG: entry(
    'XP_REGISTRY_INVALID_CONFIG',
    400,
    'validation_failed',
    'invalid configuration: {reason}',
    'A config-as-code YAML document cannot be parsed or fails its schema; details: the problems',
  ),
  PREREQUISITE_CYCLE: entry(
    'XP_REGISTRY_PREREQUISITE_CYCLE',
    400,
    'validation_failed',
    'prerequisite cycle through flag "{flag}"',
    'The flags of an import require each other in a cycle',
  ),
  INVALID_IF_MATCH: entry(
    'XP_REGISTRY_INVALID_IF_MATCH',
    400,
    'validation_failed',
    'If-Match must be an entity version such as "3"',
    'The If-Match header is not a version',
  ),
  UNKNOWN_ENVIRONMENT: entry(
    'XP_REGISTRY_UNKNOWN_ENVIRONMENT',
    400,
    'validation_failed',
    'environment: must be one of {environments}',
    'Server-side evaluation for an environment the registry does not have',
  ),
  SDK_TOKEN_KIND: entry(
    'XP_REGISTRY_SDK_TOKEN_KIND',
    400,
    'validation_failed',
    'an sdk token belongs to a service',
    'A token with role sdk was asked for a person',
  ),
  PROMOTION_INVALID: entry(
    'XP_REGISTRY_PROMOTION_INVALID',
    400,
    'validation_failed',
    'cannot create the experiment: {problems}',
    'Promoting an idea would create an invalid experiment (e.g. its owner no longer holds a token)',
  ),
  REPORT_FORMAT: entry(
    'XP_REGISTRY_REPORT_FORMAT',
    400,
    'validation_failed',
    'format must be json, markdown or html',
    'The results report was asked for in a format it does not have',
  ),
  RESULTS_KEY_MISMATCH: entry(
    'XP_REGISTRY_RESULTS_KEY_MISMATCH',
    400,
    'validation_failed',
    'experimentKey must equal the key in the path',
    "A results summary names another experiment than the URL's",
  ),
  INVALID_INPUT: entry(
    'XP_REGISTRY_INVALID_INPUT',
    400,
    'invalid_input',
    'the database cannot store this input: {reason}',
    'PostgreSQL refused a value as data (SQLSTATE 22xxx, 54001) that the checks above let through',
  ),
  REQUEST_REFUSED: Object.assign(
    entry(
      'XP_REGISTRY_REQUEST_REFUSED',
      0,
      'bad_request',
      '{message}',
      "Fastify refused the request before a route ran (unsupported media type, malformed JSON, ...): its status (4xx) and message; `error` is Fastify's code (FST_ERR_*) when it has one",
    ),
    {
      /** This entry keeps the status and code Fastify gave the error. */
      withStatus: (status: number, fastifyCode: string | undefined, message: string) =>
        new RegistryError('XP_REGISTRY_REQUEST_REFUSED', status, fastifyCode ?? 'bad_request', message),
    },
  ),
  // 401, 403: who is asking.
  TOKEN_MISSING: entry(
    'XP_REGISTRY_TOKEN_MISSING',
    401,
    'unauthorized',
    'missing API token: send the header "Authorization: Bearer <token>"',
    'No Authorization header',
  ),
  TOKEN_MALFORMED: entry(
    'XP_REGISTRY_TOKEN_MALFORMED',
    401,
    'unauthorized',
    'malformed Authorization header: expected "Bearer <token>"',
    'An Authorization header that is not a bearer token',
  ),
  TOKEN_UNKNOWN: entry(
    'XP_REGISTRY_TOKEN_UNKNOWN',
    401,
    'unauthorized',
    'unknown or revoked API token',
    'A token the registry does not know, or one that was revoked',
  ),
  UNAUTHENTICATED: entry(
    'XP_REGISTRY_UNAUTHENTICATED',
    401,
    'unauthorized',
    'not authenticated',
    'A route needed the caller but had no authentication hook (a bug in the registry)',
  ),
  FORBIDDEN: entry(
    'XP_REGISTRY_FORBIDDEN',
    403,
    'forbidden',
    'token "{name}" has role {role}; this operation needs one of: {allowed}',
    "The token's role does not allow the operation",
  ),
  // 404: what is not there.
  NOT_FOUND: entry('XP_REGISTRY_NOT_FOUND', 404, 'not_found', '{what} not found', 'No such entity'),
  ROUTE_NOT_FOUND: entry(
    'XP_REGISTRY_ROUTE_NOT_FOUND',
    404,
    'not_found',
    'no route {method} {url}',
    'No such route',
  ),
  CONSOLE_NOT_BUILT: entry(
    'XP_REGISTRY_CONSOLE_NOT_BUILT',
    404,
    'not_found',
    'the console is not built: run make build (console/dist is missing)',
    'The web console was asked for but console/dist does not exist',
  ),
  CONSOLE_FILE_NOT_FOUND: entry(
    'XP_REGISTRY_CONSOLE_FILE_NOT_FOUND',
    404,
    'not_found',
    'no file {path}',
    'No such file in the built console',
  ),
  // 409: the request conflicts with the current state.
  VERSION_CONFLICT: entry(
    'XP_REGISTRY_VERSION_CONFLICT',
    409,
    'version_conflict',
    '{key} was changed concurrently: you sent version {sent}, the current version is {current}; re-read and retry',
    'Optimistic concurrency: the version sent (If-Match or `version`) is not the current one; details: currentVersion',
  ),
  ALREADY_EXISTS: entry(
    'XP_REGISTRY_ALREADY_EXISTS',
    409,
    'already_exists',
    '{what} already exists',
    'A flag, segment, experiment or idea with this key exists',
  ),
  TOKEN_NAME_TAKEN: entry(
    'XP_REGISTRY_TOKEN_NAME_TAKEN',
    409,
    'already_exists',
    'a token named "{name}" exists',
    'Token names are unique',
  ),
  IDENTITY_KIND: entry(
    'XP_REGISTRY_IDENTITY_KIND',
    409,
    'identity_kind',
    'identity "{identity}" exists as another kind than {kind}',
    'One identity is one kind: a person or a service',
  ),
  WEBHOOK_NAME_TAKEN: entry(
    'XP_REGISTRY_WEBHOOK_NAME_TAKEN',
    409,
    'exists',
    'a webhook named {name} exists',
    'Webhook names are unique',
  ),
  IN_USE: entry(
    'XP_REGISTRY_IN_USE',
    409,
    'in_use',
    '{what} is still used by {users}',
    'A flag or segment that other flags or experiments (not archived) refer to cannot be deleted',
  ),
  MANAGED_BY_EXPERIMENT: entry(
    'XP_REGISTRY_MANAGED_BY_EXPERIMENT',
    409,
    'managed_by_experiment',
    'rule "{rule}" in {environment} belongs to running experiment "{experiment}": change its variants by starting a new phase, or stop it',
    'A flag edit would change the split rule a running experiment maintains',
  ),
  FROZEN: entry(
    'XP_REGISTRY_FROZEN',
    409,
    'frozen',
    'cannot edit {key}: {reasons}',
    "The experiment's lifecycle status freezes the fields the edit changes; details: unmet",
  ),
  IMPORT_REFUSED: entry(
    'XP_REGISTRY_IMPORT_REFUSED',
    409,
    'frozen',
    'import refused: {conflicts}',
    'A config import would make changes the lifecycle forbids; details: the import plan',
  ),
  GUARDS_UNMET: entry(
    'XP_REGISTRY_GUARDS_UNMET',
    409,
    'guards_unmet',
    'cannot move {key} from {from} to {to}: {unmet}',
    'A lifecycle transition whose guards do not hold; details: from, to and every unmet guard',
  ),
  PHASE_NOT_RUNNING: entry(
    'XP_REGISTRY_PHASE_NOT_RUNNING',
    409,
    'guards_unmet',
    'a new phase needs a running experiment ({key} is {status})',
    'A new phase of an experiment that is not running; details: unmet',
  ),
  PHASE_GUARDS_UNMET: entry(
    'XP_REGISTRY_PHASE_GUARDS_UNMET',
    409,
    'guards_unmet',
    'cannot start a new phase of {key}: {unmet}',
    'The new phase would break a start guard (variants, weights, the flag); details: unmet',
  ),
  IDEA_PROMOTED: entry(
    'XP_REGISTRY_IDEA_PROMOTED',
    409,
    'idea_promoted',
    'idea "{key}" was promoted to experiment "{experiment}"; edit the experiment instead',
    'A promoted idea cannot change',
  ),
  IDEA_ALREADY_PROMOTED: entry(
    'XP_REGISTRY_IDEA_ALREADY_PROMOTED',
    409,
    'already_promoted',
    'idea "{key}" was already promoted to experiment "{experiment}"',
    'An idea is promoted once',
  ),
  IDEA_DISCARDED: entry(
    'XP_REGISTRY_IDEA_DISCARDED',
    409,
    'idea_discarded',
    'idea "{key}" is discarded; reopen it (PATCH status "open") before promoting it',
    'A discarded idea cannot be promoted',
  ),
  // 413, 428: the request itself.
  PAYLOAD_TOO_LARGE: entry(
    'XP_REGISTRY_PAYLOAD_TOO_LARGE',
    413,
    'payload_too_large',
    'request body exceeds {limit} bytes',
    'The body is larger than REGISTRY_BODY_LIMIT_BYTES',
  ),
  PRECONDITION_REQUIRED: entry(
    'XP_REGISTRY_PRECONDITION_REQUIRED',
    428,
    'precondition_required',
    'updating {key} needs the version you read: send If-Match: "{version}" (or a "version" field)',
    'A write without the version it read (If-Match or `version`)',
  ),
  // 5xx: the registry or a service it calls.
  INTERNAL: entry(
    'XP_REGISTRY_INTERNAL',
    500,
    'internal',
    'internal error; see the registry logs',
    'An unexpected error; the registry logs it',
  ),
  RESULTS_UNAVAILABLE: entry(
    'XP_REGISTRY_RESULTS_UNAVAILABLE',
    502,
    'results_unavailable',
    'the results service at {url} did not answer: {reason}',
    'A refresh or the results history could not reach the results service',
  ),
  RESULTS_NOT_JSON: entry(
    'XP_REGISTRY_RESULTS_NOT_JSON',
    502,
    'results_unavailable',
    'the results service answered {status} without JSON',
    'The results service answered a refresh or a history request with something other than JSON',
  ),
} as const;

/** The catalogue as a list, in its order (for the README table and checks). */
export const CATALOGUE: readonly CatalogueEntry[] = Object.values(ERR);

/** `problems` as one line, `path: message; path: message`. */
export function problemList(problems: FieldProblem[]): string {
  return problems.map((p) => `${p.path}: ${p.message}`).join('; ');
}

/** Throws INVALID_ENTITY listing every problem, if there are any. */
export function failIfProblems(what: string, problems: FieldProblem[]): void {
  if (problems.length > 0) throw ERR.INVALID_ENTITY({ what, problems: problemList(problems) }, problems);
}
