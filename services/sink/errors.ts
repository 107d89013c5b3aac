// Typed errors: every failure the sink handles says whether retrying can help, decided from
// structured fields (gRPC status codes, HTTP statuses, Node's system error codes), never
// from message text. One retry policy (retry.ts) acts on `retriable`.

import { Status } from 'google-gax';

export type SinkErrorKind =
  /** Network failure, 5xx, UNAVAILABLE, quota/rate limits: the same request can succeed later. */
  | 'transient'
  /** The request is wrong (INVALID_ARGUMENT, 400): retrying it will not help. */
  | 'invalid'
  /** The write stream is gone (emulator restart, expiry) or finalized by another writer. */
  | 'stream_lost'
  /** OUT_OF_RANGE on an offset append: rows are missing before this offset (a bug). */
  | 'offset_gap'
  /** Anything needing an operator: permissions, missing dataset, inconsistent metadata. */
  | 'fatal'
  /** The sink is shutting down: stop retrying. */
  | 'stopping';

export class SinkError extends Error {
  override name = 'SinkError';
  constructor(
    readonly kind: SinkErrorKind,
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
  }

  get retriable(): boolean {
    return this.kind === 'transient';
  }
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
]);

// BigQuery REST `errors[].reason` values that mean "try again later".
const TRANSIENT_REASONS = new Set([
  'backendError',
  'internalError',
  'rateLimitExceeded',
  'quotaExceeded',
  'jobRateLimitExceeded',
  'jobBackendError',
  'jobInternalError',
]);

// gRPC statuses the Storage Write API documents as retriable. UNKNOWN is included because
// a dropped connection surfaces as UNKNOWN in grpc-js and the emulator answers UNKNOWN
// to internal failures; a value BigQuery refuses arrives as INVALID_ARGUMENT instead.
const TRANSIENT_GRPC = new Set<number>([
  Status.UNAVAILABLE,
  Status.DEADLINE_EXCEEDED,
  Status.ABORTED,
  Status.INTERNAL,
  Status.RESOURCE_EXHAUSTED,
  Status.CANCELLED,
  Status.UNKNOWN,
]);

/** A gRPC status code (google-gax errors and the Write API's in-band `error`). */
export function grpcCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' && code >= 0 && code <= 16 ? code : undefined;
}

/** Wraps anything thrown by a BigQuery client (REST or gRPC) into a SinkError. */
export function toSinkError(err: unknown, context = ''): SinkError {
  if (err instanceof SinkError) return err;
  const message = `${context ? `${context}: ` : ''}${describe(err)}`;
  return new SinkError(classify(err), message, err);
}

function classify(err: unknown): SinkErrorKind {
  const e = (err ?? {}) as {
    code?: number | string;
    errors?: { reason?: string }[];
    type?: string;
    cause?: { code?: string };
    name?: string;
  };
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return 'transient';
  if (e.cause?.code && NETWORK_CODES.has(e.cause.code)) return 'transient';
  if (e.type === 'system' || e.name === 'FetchError' || e.name === 'AbortError') return 'transient';
  if ((e.errors ?? []).some((x) => TRANSIENT_REASONS.has(x.reason ?? ''))) return 'transient';
  // gax errors carry the gRPC status; REST errors (ApiError) carry the HTTP status. Both
  // are numbers: HTTP statuses are >= 100, gRPC codes <= 16.
  if (typeof e.code === 'number' && e.code >= 100) {
    if (e.code === 429 || e.code === 408 || e.code >= 500) return 'transient';
    if (e.code === 400) return 'invalid';
    return 'fatal';
  }
  const grpc = grpcCode(err);
  if (grpc !== undefined) {
    if (TRANSIENT_GRPC.has(grpc)) return 'transient';
    if (grpc === Status.INVALID_ARGUMENT) return 'invalid';
    if (grpc === Status.NOT_FOUND || grpc === Status.FAILED_PRECONDITION) return 'stream_lost';
    if (grpc === Status.OUT_OF_RANGE) return 'offset_gap';
    return 'fatal';
  }
  // No status at all: the request got no answer (a socket closed under it).
  if (err instanceof Error && !('code' in err)) return 'transient';
  return 'fatal';
}

export function describe(err: unknown): string {
  const e = err as { code?: unknown; message?: string } | null;
  const code = e?.code !== undefined ? `${String(e.code)} ` : '';
  return `${code}${e?.message ?? String(err)}`.slice(0, 2000);
}
