// The consume -> batch -> load -> commit loop.
//
// Records of every subscribed topic are converted to rows and buffered together with the
// next offset of their partition. A flush (by rows, bytes or time) loads every table's rows
// (staging + MERGE, see loader.ts) and only then commits the offsets it covered. Flushes
// run one at a time, in order, so a committed offset always means "everything before it is
// in BigQuery". A crash anywhere replays from the last commit and the MERGE skips the rows
// that had already arrived.

import type { Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import type { Logger } from '../common/logger';
import { DecodeError, type AvroSerde } from '../common/serde';
import { Batcher, type BatchPolicy, type FlushReason } from './batcher';
import { backoffMs, sleep } from './bigquery-jobs';
import type { SinkTopic } from './config';
import { LoadError, type Loader } from './loader';
import type { SinkMetrics } from './metrics';
import { sinkFailureRow, toRow, type Failure, type Lineage, type Row } from './rows';
import type { TableDef, TableName } from './tables';

export interface RunnerOptions {
  consumer: Consumer;
  serde: AvroSerde;
  loader: Loader;
  defs: Map<TableName, TableDef>;
  topics: SinkTopic[];
  policy: BatchPolicy;
  logger: Logger;
  metrics: SinkMetrics;
  retryInitialMs: number;
  retryMaxMs: number;
}

interface Position {
  topic: string;
  partition: number;
  /** The next offset to read: what is committed once the rows before it are loaded. */
  next: bigint;
}

const HEARTBEAT_EVERY_MS = 3000;
const TICK_MS = 100;

export class Runner {
  private readonly batch: Batcher<Row>;
  private positions = new Map<string, Position>();
  private readonly highWatermarks = new Map<string, bigint>();
  private readonly tableOf: Map<string, TableName>;
  private chain: Promise<void> = Promise.resolve();
  private flushInProgress = false;
  private currentBatch: Promise<void> | null = null;
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  private joined = false;
  private crashed: Error | null = null;
  /** Set while BigQuery refuses the current flush; readiness reports it. */
  loadFailing: string | null = null;

  constructor(private readonly o: RunnerOptions) {
    this.batch = new Batcher(o.policy);
    this.tableOf = new Map(o.topics.map((t) => [t.spec.name, t.table]));
  }

  /** Whether the consumer is in its group and not crashed (readiness). */
  get consuming(): boolean {
    return this.joined && !this.crashed && !this.stopping;
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  async start(onCrash: (err: Error) => void): Promise<void> {
    const { consumer } = this.o;
    consumer.on(consumer.events.GROUP_JOIN, () => {
      this.joined = true;
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart) return; // kafkajs restarts the consumer itself
      this.crashed = payload.error;
      onCrash(payload.error);
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [...this.tableOf.keys()], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => {
        const run = this.eachBatch(payload);
        this.currentBatch = run.finally(() => (this.currentBatch = null));
        return run;
      },
    });
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  /**
   * Graceful stop: stop taking records, flush what is buffered (one attempt per table, no
   * endless retries), commit, disconnect. Anything not flushed is simply read again by
   * the next owner of the partitions.
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearInterval(this.timer);
    try {
      this.o.consumer.pause([...this.tableOf.keys()].map((topic) => ({ topic })));
    } catch {
      // not running yet
    }
    await this.currentBatch?.catch(() => undefined);
    await this.flush('time').catch((err: unknown) => {
      this.o.logger.warn(
        { err: (err as Error).message },
        'final flush failed; the records will be read again',
      );
    });
    await this.o.consumer.disconnect();
  }

  private async eachBatch({
    batch,
    resolveOffset,
    heartbeat,
    isRunning,
    isStale,
  }: EachBatchPayload): Promise<void> {
    const { topic, partition } = batch;
    const key = `${topic}:${partition}`;
    this.highWatermarks.set(key, BigInt(batch.highWatermark));
    for (const message of batch.messages) {
      if (this.stopping || !isRunning() || isStale()) return;
      const rows = await this.rowsOf(topic, partition, message);
      const now = Date.now();
      for (const row of rows) this.batch.add(row, row.bytes, now);
      this.positions.set(key, { topic, partition, next: BigInt(message.offset) + 1n });
      resolveOffset(message.offset);
      this.o.metrics.recordsConsumed.inc({ topic });
      this.o.metrics.bufferedRows.set(this.batch.rows);
      if (this.batch.full()) await this.flushWithHeartbeats(this.batch.due(now) ?? 'rows', heartbeat);
    }
  }

  /** Waits for a flush (backpressure) while keeping the consumer's group membership. */
  private async flushWithHeartbeats(reason: FlushReason, heartbeat: () => Promise<void>): Promise<void> {
    let done = false;
    const flushed = this.flush(reason).finally(() => (done = true));
    while (!done) {
      await Promise.race([flushed.catch(() => undefined), sleep(HEARTBEAT_EVERY_MS)]);
      if (!done) await heartbeat().catch(() => undefined);
    }
    await flushed.catch((err: unknown) => {
      if (!this.stopping) throw err;
    });
  }

  private async rowsOf(topic: string, partition: number, message: KafkaMessage): Promise<Row[]> {
    const lineage: Lineage = { topic, partition, offset: message.offset };
    const value = message.value;
    if (value === null) {
      // A tombstone (compacted topics) carries no data to load.
      return [];
    }
    let record: Record<string, unknown>;
    try {
      record = await this.o.serde.decode<Record<string, unknown>>(topic, value);
    } catch (err) {
      // Anything but a DecodeError (the schema registry is down) is transient: kafkajs
      // retries the batch from the last resolved offset.
      if (!(err instanceof DecodeError)) throw err;
      return [this.failure(lineage, value, { code: err.code, path: '', message: err.message })];
    }
    const def = this.o.defs.get(this.tableOf.get(topic)!)!;
    const out = toRow(def, record, lineage, value);
    if ('row' in out) return [out.row];
    const id = record.messageId ?? record.eventId;
    return [this.failure(lineage, value, out.failure, typeof id === 'string' ? id : null)];
  }

  private failure(
    lineage: Lineage,
    value: Buffer | null,
    reason: Failure,
    messageId: string | null = null,
  ): Row {
    this.o.metrics.rowsFailed.inc({ code: reason.code });
    this.o.logger.warn({ ...lineage, reason }, 'record sent to failed_events');
    return sinkFailureRow(lineage, value, [reason], new Date(), messageId);
  }

  private tick(): void {
    if (this.flushInProgress || this.stopping) return;
    const now = Date.now();
    const reason = this.batch.due(now) ?? (this.batch.rows === 0 && this.positions.size > 0 ? 'time' : null);
    if (!reason) return;
    this.flush(reason).catch((err: unknown) => {
      this.o.logger.error({ err: (err as Error).message }, 'flush failed');
    });
  }

  /** Queues a flush of everything buffered now; flushes run one after another. */
  flush(reason: FlushReason): Promise<void> {
    const run = this.chain.then(() => this.flushNow(reason));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async flushNow(reason: FlushReason): Promise<void> {
    const rows = this.batch.take();
    const positions = this.positions;
    this.positions = new Map();
    this.o.metrics.bufferedRows.set(this.batch.rows);
    if (rows.length === 0 && positions.size === 0) return;
    this.flushInProgress = true;
    const timer = this.o.metrics.flushSeconds.startTimer();
    try {
      await this.loadAll(rows);
      await this.commit(positions);
      this.o.logger.debug({ reason, rows: rows.length, partitions: positions.size }, 'flushed');
      timer();
    } catch (err) {
      // Not loaded: put the positions back unless newer ones exist, so that nothing after
      // them is committed by a later flush (that would skip these rows).
      this.restore(rows, positions);
      throw err;
    } finally {
      this.flushInProgress = false;
    }
  }

  private restore(rows: Row[], positions: Map<string, Position>): void {
    const newer = this.batch.take();
    const now = Date.now();
    for (const r of [...rows, ...newer]) this.batch.add(r, r.bytes, now);
    const merged = new Map(positions);
    for (const [k, p] of this.positions) merged.set(k, p);
    this.positions = merged;
  }

  /**
   * Loads every table's rows, then the failed_events rows for what BigQuery rejected.
   * Retries until done; tables already loaded in an earlier attempt are not loaded again.
   */
  private async loadAll(rows: Row[]): Promise<void> {
    const byTable = new Map<TableName, Row[]>();
    for (const r of rows) {
      const list = byTable.get(r.table);
      if (list) list.push(r);
      else byTable.set(r.table, [r]);
    }
    const done = new Set<TableName>();
    const rejected: Row[] = [];
    for (let attempt = 0; ; attempt++) {
      try {
        await Promise.all(
          [...byTable]
            .filter(([table]) => table !== 'failed_events' && !done.has(table))
            .map(async ([table, list]) => {
              const result = await this.o.loader.load(this.o.defs.get(table)!, list);
              this.account(table, result.loaded, result.inserted);
              for (const { row, reason } of result.rejected) {
                rejected.push(this.failure(row.lineage, row.source, reason));
              }
              done.add(table);
            }),
        );
        const failed = [...(byTable.get('failed_events') ?? []), ...rejected];
        if (failed.length > 0 && !done.has('failed_events')) {
          const result = await this.o.loader.load(this.o.defs.get('failed_events')!, failed);
          this.account('failed_events', result.loaded, result.inserted);
          for (const { row, reason } of result.rejected) {
            // Nowhere left to put it: say so loudly rather than loop forever.
            this.o.metrics.errors.inc({ kind: 'failed_row_rejected' });
            this.o.logger.error({ ...row.lineage, reason }, 'failed_events refused a row; it is dropped');
          }
          done.add('failed_events');
        }
        this.loadFailing = null;
        return;
      } catch (err) {
        this.loadFailing = (err as Error).message;
        if (this.stopping || (err instanceof LoadError && err.kind === 'stopping')) throw err;
        const wait = backoffMs(attempt, this.o.retryInitialMs * 5, this.o.retryMaxMs);
        this.o.logger.error(
          { err: (err as Error).message, waitMs: wait },
          'loading a batch failed; retrying',
        );
        await sleep(wait);
      }
    }
  }

  private account(table: TableName, loaded: number, inserted: number): void {
    this.o.metrics.rowsLoaded.inc({ table }, loaded);
    this.o.metrics.rowsInserted.inc({ table }, inserted);
  }

  private async commit(positions: Map<string, Position>): Promise<void> {
    if (positions.size === 0) return;
    const offsets = [...positions.values()].map((p) => ({
      topic: p.topic,
      partition: p.partition,
      offset: p.next.toString(),
    }));
    try {
      await this.o.consumer.commitOffsets(offsets);
    } catch (err) {
      // Usually a rebalance: the rows are in BigQuery, so the new owner's replay is harmless.
      this.o.metrics.errors.inc({ kind: 'commit' });
      this.o.logger.warn(
        { err: (err as Error).message },
        'offset commit failed; the records will be replayed',
      );
      return;
    }
    for (const p of positions.values()) {
      const hw = this.highWatermarks.get(`${p.topic}:${p.partition}`);
      if (hw !== undefined) {
        this.o.metrics.lag.set({ topic: p.topic, partition: String(p.partition) }, Number(hw - p.next));
      }
    }
  }
}
