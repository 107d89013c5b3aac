// What the Kafka offset commit of one input partition carries besides the offset: for each
// table the partition writes, the committed write stream and how many of its rows precede
// the committed offset. Tying both positions into one atomic commit is what makes recovery
// exact: rows a stream holds beyond `next` were written for records at or after the
// committed offset, i.e. the first rows a replay derives.
//
// Kafka keeps up to offset.metadata.max.bytes (4096 by default) per partition; two tables
// per partition with ~110-character stream names need ~300 bytes.

import type { TableName } from './tables';

export interface TableCursor {
  /** The write stream rows are appended to; null when none was created since recovery. */
  stream: string | null;
  /** Rows of `stream` derived from records before the committed offset. */
  next: number;
  /**
   * Rows derived from records at or after the committed offset that are already in the
   * table through earlier (finalized) streams: a replay skips them first.
   */
  skip: number;
  /**
   * Set after a stream was lost (emulator restart, expiry): rows up to this Kafka offset
   * may be in the table without any stream to count them, so recovery checks row ids
   * (kafka_offset >= the committed offset) until the committed offset passes it.
   */
  checkIdsUpTo?: number;
}

export type CommitMetadata = Partial<Record<TableName, TableCursor>>;

const VERSION = 1;

export function encodeMetadata(m: CommitMetadata): string {
  const tables: Record<string, unknown[]> = {};
  for (const [table, c] of Object.entries(m)) {
    const entry: unknown[] = [c.stream, c.next, c.skip];
    if (c.checkIdsUpTo !== undefined) entry.push(c.checkIdsUpTo);
    tables[table] = entry;
  }
  return JSON.stringify({ v: VERSION, t: tables });
}

/** Parses commit metadata; anything else (null, another tool's text) means "no cursors". */
export function decodeMetadata(text: string | null | undefined): CommitMetadata {
  if (!text) return {};
  let parsed: { v?: unknown; t?: Record<string, unknown> };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    return {};
  }
  if (parsed?.v !== VERSION || typeof parsed.t !== 'object' || parsed.t === null) return {};
  const out: CommitMetadata = {};
  for (const [table, raw] of Object.entries(parsed.t)) {
    if (!Array.isArray(raw)) continue;
    const [stream, next, skip, checkIdsUpTo] = raw as unknown[];
    if (
      (stream !== null && typeof stream !== 'string') ||
      !Number.isSafeInteger(next) ||
      !Number.isSafeInteger(skip)
    ) {
      continue;
    }
    const cursor: TableCursor = { stream: stream, next: next as number, skip: skip as number };
    if (Number.isSafeInteger(checkIdsUpTo)) cursor.checkIdsUpTo = checkIdsUpTo as number;
    out[table as TableName] = cursor;
  }
  return out;
}
