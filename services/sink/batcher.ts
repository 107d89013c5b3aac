// When to flush: the batching policy, pure (the caller passes the clock).

export interface BatchPolicy {
  /** Flush when this many rows are buffered. */
  maxRows: number;
  /** Flush when the buffered rows' JSON reaches this many bytes. */
  maxBytes: number;
  /** Flush when the oldest buffered row has waited this long. */
  maxDelayMs: number;
}

export type FlushReason = 'rows' | 'bytes' | 'time';

/**
 * Accumulates items with their sizes and says when the buffer should go to BigQuery: by
 * row count, by bytes, or when the oldest item has waited `maxDelayMs` (the bound on how
 * long accepted data stays invisible to analysts, besides the load itself).
 */
export class Batcher<T> {
  private items: T[] = [];
  private byteCount = 0;
  private oldestAt: number | null = null;

  constructor(readonly policy: BatchPolicy) {
    if (policy.maxRows < 1 || policy.maxBytes < 1 || policy.maxDelayMs < 0) {
      throw new Error('batch policy needs maxRows >= 1, maxBytes >= 1 and maxDelayMs >= 0');
    }
  }

  get rows(): number {
    return this.items.length;
  }

  get bytes(): number {
    return this.byteCount;
  }

  add(item: T, bytes: number, now: number): void {
    if (this.oldestAt === null) this.oldestAt = now;
    this.items.push(item);
    this.byteCount += bytes;
  }

  /** Why the buffer should be flushed now, or null. An empty buffer never needs one. */
  due(now: number): FlushReason | null {
    if (this.items.length === 0) return null;
    if (this.items.length >= this.policy.maxRows) return 'rows';
    if (this.byteCount >= this.policy.maxBytes) return 'bytes';
    if (this.oldestAt !== null && now - this.oldestAt >= this.policy.maxDelayMs) return 'time';
    return null;
  }

  /** Milliseconds until the time limit is reached (0 when due); null when empty. */
  msUntilDue(now: number): number | null {
    if (this.oldestAt === null) return null;
    return Math.max(0, this.oldestAt + this.policy.maxDelayMs - now);
  }

  /** Whether the buffer is at or above a size limit (producers should wait for a flush). */
  full(): boolean {
    return this.items.length >= this.policy.maxRows || this.byteCount >= this.policy.maxBytes;
  }

  /** Removes and returns everything buffered. */
  take(): T[] {
    const out = this.items;
    this.items = [];
    this.byteCount = 0;
    this.oldestAt = null;
    return out;
  }
}

/**
 * Splits rows into chunks of at most `maxRows` rows and about `maxBytes` bytes each
 * (one insertAll request per chunk; a single oversized row gets a chunk of its own).
 */
export function chunk<T>(items: T[], size: (t: T) => number, maxRows: number, maxBytes: number): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const b = size(item);
    if (current.length > 0 && (current.length >= maxRows || bytes + b > maxBytes)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += b;
  }
  if (current.length > 0) out.push(current);
  return out;
}
