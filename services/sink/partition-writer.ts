// Everything one input partition writes: its buffered rows, one committed write stream per
// table, and the cursors its Kafka commits carry (commit-metadata.ts).
//
// Rows are derived from records deterministically and in offset order, so the rows of a
// table form one sequence per partition; a replay from the committed offset derives the
// same sequence. A stream holds a prefix of it, and `next` says how much of the prefix
// precedes the committed offset. Hence recovery: finalize the stream named in the commit
// (this fences any zombie writer still appending to it), take its row count R, and skip
// the first R - next rows the replay derives. Appends carry explicit offsets, so a retried
// append cannot write twice (ALREADY_EXISTS is success only for a retry of the same range).

import type { managedwriter, protos } from '@google-cloud/bigquery-storage';
import type { JSONList } from '@google-cloud/bigquery-storage/build/src/managedwriter/json_writer';
import type { Logger } from '../common/logger';
import { encodeMetadata, type CommitMetadata, type TableCursor } from './commit-metadata';
import { SinkError, toSinkError } from './errors';
import type { Failpoints } from './failpoint';
import type { SinkMetrics } from './metrics';
import { backoffMs, sleep, withRetry, type RetryPolicy } from './retry';
import { sinkFailureRow, type Failure, type Row } from './rows';
import type { TableName } from './tables';
import { createCommittedStream, finalizeStream, type AppendResult, type CommittedStream } from './write-api';

/** The rows one Kafka record became (usually one; none for a tombstone). */
export interface Entry {
  offset: bigint;
  rows: Row[];
  bytes: number;
}

export interface PartitionIo {
  client: managedwriter.WriterClient;
  /** projects/../datasets/../tables/<table> */
  tablePath: (table: TableName) => string;
  descriptor: (table: TableName) => protos.google.protobuf.IDescriptorProto;
  /** The group's committed offset and metadata for this partition. */
  readCommitted: () => Promise<{ offset: bigint | null; metadata: CommitMetadata }>;
  /** Commits `offset` (next record to read) with metadata, for this partition only. */
  commit: (offset: bigint, metadata: string) => Promise<void>;
  /** The Kafka offsets of this partition's records a table holds rows of, from `offset` on. */
  offsetsSince: (table: TableName, offset: bigint) => Promise<{ offsets: Set<string>; maxOffset: number }>;
}

export interface PartitionWriterOptions {
  topic: string;
  partition: number;
  /** The table the topic's records go to; the sink's own failure rows go to failed_events. */
  table: TableName;
  io: PartitionIo;
  retry: RetryPolicy;
  appendMaxRows: number;
  appendMaxBytes: number;
  appendTimeoutMs: number;
  rotateIdleMs: number;
  logger: Logger;
  metrics: SinkMetrics;
  failpoints: Failpoints;
  stopping: () => boolean;
}

interface Cursor {
  stream: CommittedStream | null;
  /** Rows acknowledged in `stream`. */
  next: number;
  /** Rows still to skip: already in the table through earlier streams. */
  skip: number;
  /**
   * After a lost stream: offsets of records whose rows the table already holds, up to
   * checkIdsUpTo. (Offsets, not row ids: two records may share a row id, each has its row.)
   */
  skipOffsets?: Set<string>;
  checkIdsUpTo?: number;
}

export class PartitionWriter {
  private buffer: Entry[] = [];
  private bufferedRows = 0;
  private bufferedBytes = 0;
  private oldestAt: number | null = null;
  private cursors = new Map<TableName, Cursor>();
  /**
   * The cursors as they stand at `committedOffset` (what the last commit carried, plus
   * streams registered since). A commit at the committed offset, made to register a new
   * stream, must carry these, not the live cursors: rows already appended for later records
   * would otherwise count as committed, and a crash right then would replay them twice.
   */
  private committedCursors: CommitMetadata = {};
  private recovered = false;
  private revoked = false;
  /** The next offset to read, as committed (null before the group's first commit). */
  committedOffset: bigint | null = null;
  /** The offset after the last buffered record (records below it are already buffered). */
  expectedOffset: bigint | null = null;
  /** The first record ever buffered: where to read again when nothing was committed. */
  firstOffset: bigint | null = null;
  /** Set while a flush is being retried; readiness reports it. */
  failing: string | null = null;
  flushing: Promise<void> | null = null;
  private readonly tables: TableName[];
  readonly log: Logger;

  get partition(): number {
    return this.o.partition;
  }

  constructor(private readonly o: PartitionWriterOptions) {
    this.tables = o.table === 'failed_events' ? ['failed_events'] : [o.table, 'failed_events'];
    this.log = o.logger.child({ topic: o.topic, partition: o.partition });
  }

  get rows(): number {
    return this.bufferedRows;
  }

  add(entry: Entry, now: number): void {
    if (this.oldestAt === null) this.oldestAt = now;
    if (this.firstOffset === null) this.firstOffset = entry.offset;
    this.buffer.push(entry);
    this.bufferedRows += entry.rows.length;
    this.bufferedBytes += entry.bytes;
    this.expectedOffset = entry.offset + 1n;
  }

  due(now: number, maxRows: number, maxBytes: number, maxDelayMs: number): boolean {
    if (this.buffer.length === 0) return false;
    return (
      this.bufferedRows >= maxRows ||
      this.bufferedBytes >= maxBytes ||
      (this.oldestAt !== null && now - this.oldestAt >= maxDelayMs)
    );
  }

  full(maxRows: number, maxBytes: number): boolean {
    return this.bufferedRows >= maxRows * 2 || this.bufferedBytes >= maxBytes * 2;
  }

  /** Stops this writer for good (partition revoked, or reset): nothing more is committed. */
  revoke(): void {
    this.revoked = true;
    for (const c of this.cursors.values()) c.stream?.close();
  }

  get isRevoked(): boolean {
    return this.revoked;
  }

  /** Writes everything buffered now, then commits the partition's offset and cursors. */
  async flush(): Promise<void> {
    if (!this.recovered) await this.recover();
    let entries = this.take();
    while (entries.length > 0 && !this.revoked) {
      const rest = await this.writeSegment(entries);
      entries = rest;
    }
  }

  private take(): Entry[] {
    const out = this.buffer;
    this.buffer = [];
    this.bufferedRows = 0;
    this.bufferedBytes = 0;
    this.oldestAt = null;
    return out;
  }

  // --- recovery ---------------------------------------------------------------------------

  /**
   * Reads the committed cursors, finalizes their streams (fencing any writer still using
   * them) and computes how many rows of the replay each table already holds. A stream
   * BigQuery no longer knows (an emulator restart, an expired stream) cannot be counted:
   * then, and only then, the offsets of the rows the table holds from the committed offset on
   * are read.
   */
  private async recover(): Promise<void> {
    const { offset, metadata } = await this.retrying('read committed offset', () =>
      this.o.io.readCommitted(),
    );
    this.committedOffset = offset;
    this.cursors = new Map();
    for (const table of this.tables) {
      const c = metadata[table];
      this.cursors.set(table, await this.recoverTable(table, c, offset));
    }
    this.committedCursors = this.snapshot();
    this.o.failpoints.reach('recovery');
    this.recovered = true;
    this.log.info(
      {
        offset: offset?.toString() ?? null,
        skip: Object.fromEntries(
          [...this.cursors].map(([t, c]) => [t, c.skipOffsets ? `offsets:${c.skipOffsets.size}` : c.skip]),
        ),
      },
      'partition recovered',
    );
  }

  private async recoverTable(
    table: TableName,
    c: TableCursor | undefined,
    offset: bigint | null,
  ): Promise<Cursor> {
    if (!c) return { stream: null, next: 0, skip: 0 };
    const from = offset ?? 0n;
    const idCheck = async (): Promise<Cursor> => {
      const { offsets, maxOffset } = await this.retrying(`read ${table} row offsets`, () =>
        this.o.io.offsetsSince(table, from),
      );
      this.o.metrics.recoveries.inc({ table, mode: 'row_offsets' });
      return {
        stream: null,
        next: 0,
        skip: 0,
        skipOffsets: offsets,
        checkIdsUpTo: Math.max(maxOffset, c.checkIdsUpTo ?? -1),
      };
    };
    if (c.checkIdsUpTo !== undefined && Number(from) <= c.checkIdsUpTo) return idCheck();
    if (!c.stream) return { stream: null, next: 0, skip: c.skip };
    let rows: number;
    try {
      rows = await this.retrying(`finalize ${table} stream`, () =>
        finalizeStream(this.o.io.client, c.stream!),
      );
    } catch (err) {
      if (err instanceof SinkError && err.kind === 'stream_lost') {
        this.log.warn(
          { table, stream: c.stream, err: err.message },
          'previous stream is gone; checking the rows the table holds',
        );
        return idCheck();
      }
      throw err;
    }
    if (rows < c.next) {
      throw new SinkError(
        'fatal',
        `${table}: stream ${c.stream} holds ${rows} rows, the commit says ${c.next}`,
      );
    }
    this.o.metrics.recoveries.inc({ table, mode: 'finalize' });
    return { stream: null, next: 0, skip: c.skip + (rows - c.next) };
  }

  // --- writing ----------------------------------------------------------------------------

  /**
   * Writes the rows of `entries` to their tables and commits. When BigQuery refuses a row,
   * the segment ends at that record: the rows before it and its failed_events row are
   * written and committed, and the remaining entries are returned to be written next. Thus
   * no refused row ever lies between a committed offset and the rows a stream holds beyond
   * it, which keeps the replay's skip counts exact.
   */
  private async writeSegment(entries: Entry[]): Promise<Entry[]> {
    const basis = this.committedOffset ?? entries[0]!.offset;
    let end = entries.length;
    const failed: { offset: bigint; row: Row }[] = [];
    const main = this.o.table;
    if (main !== 'failed_events') {
      const rows = this.rowsOf(entries, main);
      const result = await this.append(main, rows, basis);
      if (result.rejected) {
        const { row, reason } = result.rejected;
        end = entries.findIndex((e) => e.offset === BigInt(row.lineage.offset)) + 1;
        this.o.metrics.rowsFailed.inc({ code: reason.code });
        this.log.warn(
          { rowId: row.rowId, offset: row.lineage.offset, reason },
          'BigQuery refused a row; it goes to failed_events',
        );
        failed.push({
          offset: BigInt(row.lineage.offset),
          row: sinkFailureRow(row.lineage, row.source, [reason]),
        });
      }
    }
    const segment = entries.slice(0, end);
    const failedRows = this.rowsOf(segment, 'failed_events');
    // The refused row's failure row belongs at its record's place in the sequence: last.
    for (const f of failed) failedRows.push(f.row);
    if (failedRows.length > 0) {
      const result = await this.append('failed_events', failedRows, basis);
      if (result.rejected) {
        // failed_events is the last resort: a failure row it refuses is a bug in the mapping.
        throw new SinkError(
          'fatal',
          `failed_events refused row ${result.rejected.row.rowId}: ${result.rejected.reason.message}`,
        );
      }
    }
    this.o.failpoints.reach('after-ack');
    const next = segment[segment.length - 1]!.offset + 1n;
    await this.commitAt(next);
    return entries.slice(end);
  }

  /** The rows of `table` the entries derive, minus those the table already holds. */
  private rowsOf(entries: Entry[], table: TableName): Row[] {
    const cursor = this.cursors.get(table)!;
    const out: Row[] = [];
    for (const e of entries) {
      for (const r of e.rows) {
        if (r.table !== table) continue;
        if (cursor.skipOffsets) {
          if (cursor.skipOffsets.has(r.lineage.offset)) {
            this.o.metrics.rowsSkipped.inc({ table });
            continue;
          }
        } else if (cursor.skip > 0) {
          cursor.skip -= 1;
          this.o.metrics.rowsSkipped.inc({ table });
          continue;
        }
        out.push(r);
      }
    }
    return out;
  }

  /** The stream to append to: a live one, or a new one registered in Kafka before use. */
  private async streamFor(table: TableName, basis: bigint): Promise<CommittedStream> {
    const cursor = this.cursors.get(table)!;
    if (cursor.stream && Date.now() - cursor.stream.lastAppendAt > this.o.rotateIdleMs) {
      // Before BigQuery expires it for idleness: everything in it is committed, so its
      // count must equal `next`; the replacement starts at 0.
      const old = cursor.stream;
      cursor.stream = null;
      old.close();
      await this.retrying(`finalize idle ${table} stream`, () => finalizeStream(this.o.io.client, old.name));
      cursor.next = 0;
    }
    if (cursor.stream) return cursor.stream;
    const stream = await this.retrying(`create ${table} stream`, () =>
      createCommittedStream(this.o.io.client, this.o.io.tablePath(table), this.o.io.descriptor(table)),
    );
    this.o.metrics.streamsCreated.inc({ table });
    cursor.stream = stream;
    cursor.next = 0;
    // Registered before its first row, at the committed offset with the committed cursors:
    // a crash after any append finds the stream in the commit and counts its rows.
    const committed = this.committedCursors[table] ?? { stream: null, next: 0, skip: 0 };
    this.committedCursors = {
      ...this.committedCursors,
      [table]: { ...committed, stream: stream.name, next: 0 },
    };
    await this.commitMetadata(this.committedOffset ?? basis, this.committedCursors);
    return stream;
  }

  /**
   * Appends rows in requests under the size limit, several in flight, each at its offset.
   * Transient failures are retried from the first unacknowledged request; a request that
   * was sent before and now answers ALREADY_EXISTS was written by that earlier attempt.
   * When BigQuery refuses a row, the rows before it are written and it is returned.
   */
  private async append(
    table: TableName,
    rows: Row[],
    basis: bigint,
  ): Promise<{ rejected?: { row: Row; reason: Failure } }> {
    if (rows.length === 0) return {};
    const chunks = chunk(rows, this.o.appendMaxRows, this.o.appendMaxBytes);
    const sent = new Set<number>();
    let rejected: { row: Row; reason: Failure } | undefined;
    let i = 0;
    let attempt = 0;
    const timer = this.o.metrics.appendSeconds.startTimer({ table });
    while (i < chunks.length) {
      if (this.revoked) throw new SinkError('stopping', 'partition revoked');
      const stream = await this.streamFor(table, basis);
      const cursor = this.cursors.get(table)!;
      this.o.failpoints.reach('before-append');
      const waits: (() => Promise<AppendResult>)[] = [];
      try {
        let offset = cursor.next;
        for (let j = i; j < chunks.length; j++) {
          waits.push(
            await stream.send(chunks[j]!.map((r) => r.json) as JSONList, offset, this.o.appendTimeoutMs),
          );
          offset += chunks[j]!.length;
          this.o.metrics.appendRequests.inc({ table });
        }
        this.o.failpoints.reach('after-send');
        for (let k = 0; k < waits.length; k++) {
          const j = i + k;
          const result = await waits[k]!();
          if (result.kind === 'already_exists' && !sent.has(j)) {
            throw new SinkError(
              'stream_lost',
              `${table}: offset ${cursor.next} of ${stream.name} was written by another writer`,
            );
          }
          if (result.kind === 'row_errors') {
            // Nothing of this request was written; later requests answer OUT_OF_RANGE.
            const first = Math.min(...result.rows.map((r) => r.index));
            rejected = {
              row: chunks[j]![first]!,
              reason: {
                code: 'bigquery_rejected',
                path: '',
                message: result.rows.map((x) => x.message).join('; '),
              },
            };
            const before = chunks[j]!.slice(0, first);
            chunks.length = j;
            if (before.length > 0) chunks.push(before);
            for (let l = j; l < j + waits.length; l++) sent.delete(l);
            break;
          }
          sent.add(j);
          cursor.next += chunks[j]!.length;
          this.o.metrics.rowsLoaded.inc({ table }, chunks[j]!.length);
          i = j + 1;
        }
        attempt = 0;
        this.failing = null;
      } catch (raw) {
        // Requests after a failed one answer OUT_OF_RANGE or fail too: they are resent.
        for (const w of waits) void w().catch(() => undefined);
        const err = toSinkError(raw, `append to ${table}`);
        for (let j = i; j < chunks.length; j++) sent.add(j);
        if (err.kind === 'invalid') {
          const c = chunks[i]!;
          if (c.length > 1) {
            // Refused without naming a row: split the request until the bad row is alone.
            const mid = Math.ceil(c.length / 2);
            chunks.splice(i, 1, c.slice(0, mid), c.slice(mid));
            for (let j = i; j < chunks.length; j++) sent.delete(j);
            continue;
          }
          rejected = { row: c[0]!, reason: { code: 'bigquery_rejected', path: '', message: err.message } };
          chunks.length = i;
          continue;
        }
        if (!err.retriable || this.o.stopping()) throw err;
        await this.backoff(err, attempt++);
      }
    }
    timer();
    return rejected ? { rejected } : {};
  }

  /** The live cursors, valid once every row derived from records before `offset` is written. */
  private snapshot(offset?: bigint): CommitMetadata {
    const metadata: CommitMetadata = {};
    for (const [table, c] of this.cursors) {
      const cursor: TableCursor = {
        stream: c.stream?.name ?? null,
        next: c.stream ? c.next : 0,
        skip: c.skipOffsets ? 0 : c.skip,
      };
      if (c.checkIdsUpTo !== undefined && (offset === undefined || Number(offset) <= c.checkIdsUpTo)) {
        cursor.checkIdsUpTo = c.checkIdsUpTo;
      }
      metadata[table] = cursor;
    }
    return metadata;
  }

  /** Commits `offset` with the live cursors: every row of the records before it is written. */
  private async commitAt(offset: bigint): Promise<void> {
    const metadata = this.snapshot(offset);
    await this.commitMetadata(offset, metadata);
    this.committedCursors = metadata;
    for (const c of this.cursors.values()) {
      if (c.checkIdsUpTo !== undefined && Number(offset) > c.checkIdsUpTo) {
        delete c.skipOffsets;
        delete c.checkIdsUpTo;
      }
    }
  }

  private async commitMetadata(offset: bigint, metadata: CommitMetadata): Promise<void> {
    if (this.revoked) throw new SinkError('stopping', 'partition revoked');
    await this.retrying('commit offset', () => this.o.io.commit(offset, encodeMetadata(metadata)));
    this.committedOffset = offset;
  }

  private retrying<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return withRetry(
      this.o.retry,
      {
        context: what,
        stopping: () => this.o.stopping() || this.revoked,
        onRetry: (err, attempt, waitMs) => this.noteRetry(err, attempt, waitMs),
      },
      async () => {
        const v = await fn();
        this.failing = null;
        return v;
      },
    );
  }

  private async backoff(err: SinkError, attempt: number): Promise<void> {
    const wait = backoffMs(attempt, this.o.retry.initialMs, this.o.retry.maxMs);
    this.noteRetry(err, attempt, wait);
    await sleep(wait);
  }

  private noteRetry(err: SinkError, attempt: number, waitMs: number): void {
    this.failing = err.message;
    this.o.metrics.errors.inc({ kind: `bigquery_${err.kind}` });
    this.log.warn({ err: err.message, attempt, waitMs }, 'BigQuery call failed; retrying');
  }
}

/** Splits rows into requests of at most maxRows rows and about maxBytes bytes. */
export function chunk(rows: Row[], maxRows: number, maxBytes: number): Row[][] {
  const out: Row[][] = [];
  let current: Row[] = [];
  let bytes = 0;
  for (const r of rows) {
    if (current.length > 0 && (current.length >= maxRows || bytes + r.bytes > maxBytes)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(r);
    bytes += r.bytes;
  }
  if (current.length > 0) out.push(current);
  return out;
}
