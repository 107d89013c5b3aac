// Query jobs and error classification shared by the loader, the tables and the views.

import type { BigQuery } from '@google-cloud/bigquery';

export interface QueryResult {
  rows: Record<string, unknown>[];
  /** Rows inserted/updated/deleted by a DML statement (MERGE). */
  affectedRows: number;
}

/**
 * Runs a statement and waits for it. createQueryJob + getQueryResults throws when the
 * statement fails; `bq.query()` may answer [] instead on the emulator.
 */
export async function runQuery(
  bq: BigQuery,
  query: string,
  params?: Record<string, unknown>,
): Promise<QueryResult> {
  const [job] = await bq.createQueryJob({ query, ...(params ? { params } : {}) });
  const [rows] = await job.getQueryResults();
  const stats = (job.metadata as { statistics?: { query?: { numDmlAffectedRows?: string } } } | undefined)
    ?.statistics?.query;
  let affected = stats?.numDmlAffectedRows;
  if (affected === undefined) {
    const [meta] = (await job.getMetadata()) as unknown as [
      { statistics?: { query?: { numDmlAffectedRows?: string } } },
    ];
    affected = meta.statistics?.query?.numDmlAffectedRows;
  }
  return { rows: rows as Record<string, unknown>[], affectedRows: Number(affected ?? 0) };
}

/** What to do about an error from BigQuery. */
export type ErrorKind =
  /** Network failure, 5xx, rate limit: retry the same request with backoff. */
  | 'transient'
  /** The request itself is bad (400 invalid): retrying will not help. */
  | 'invalid'
  /** Anything else (403 access denied, 404 dataset missing...): needs an operator. */
  | 'fatal';

const TRANSIENT_REASONS = new Set([
  'backendError',
  'internalError',
  'rateLimitExceeded',
  'quotaExceeded',
  'jobRateLimitExceeded',
  'jobBackendError',
  'jobInternalError',
]);

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

export function classifyError(err: unknown): ErrorKind {
  const e = err as {
    code?: number | string;
    errors?: { reason?: string }[];
    type?: string;
    cause?: { code?: string };
    name?: string;
  };
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return 'transient';
  if (e.cause?.code && NETWORK_CODES.has(e.cause.code)) return 'transient';
  if (e.type === 'system' || e.name === 'FetchError' || e.name === 'AbortError') return 'transient';
  const reasons = (e.errors ?? []).map((x) => x.reason ?? '');
  if (reasons.some((r) => TRANSIENT_REASONS.has(r))) return 'transient';
  if (typeof e.code === 'number') {
    if (e.code === 429 || e.code >= 500) return 'transient';
    if (e.code === 400) return 'invalid';
    return 'fatal';
  }
  // No HTTP status at all: the request did not get an answer.
  const message = (err as Error)?.message ?? '';
  if (/socket hang up|network|timeout|ECONN|fetch failed/i.test(message)) return 'transient';
  return 'fatal';
}

/** Exponential backoff with full jitter, capped. */
export function backoffMs(attempt: number, initialMs: number, maxMs: number, random = Math.random): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 20));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
