// The sink's one retry policy: exponential backoff with full jitter, retrying only errors
// that say they are retriable (SinkError.retriable), for as long as they last unless a
// limit is given, and giving up at once when the sink stops.

import { SinkError, toSinkError } from './errors';

export interface RetryPolicy {
  initialMs: number;
  maxMs: number;
  /** Attempts before giving up on a retriable error (Infinity: until it succeeds or we stop). */
  maxAttempts?: number;
}

export interface RetryHooks {
  /** Called before each wait; readiness and metrics hang off this. */
  onRetry?: (err: SinkError, attempt: number, waitMs: number) => void;
  stopping?: () => boolean;
  /** Errors wrapped with this context ("append to events"). */
  context?: string;
}

/** Exponential backoff with full jitter, capped. */
export function backoffMs(attempt: number, initialMs: number, maxMs: number, random = Math.random): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 20));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function withRetry<T>(policy: RetryPolicy, hooks: RetryHooks, fn: () => Promise<T>): Promise<T> {
  const max = policy.maxAttempts ?? Infinity;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (raw) {
      const err = toSinkError(raw, hooks.context);
      if (hooks.stopping?.()) throw new SinkError('stopping', err.message, err);
      if (!err.retriable || attempt + 1 >= max) throw err;
      const wait = backoffMs(attempt, policy.initialMs, policy.maxMs);
      hooks.onRetry?.(err, attempt, wait);
      await sleep(wait);
    }
  }
}
