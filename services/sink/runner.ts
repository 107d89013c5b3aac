// The consume -> derive rows -> append -> commit loop, one PartitionWriter per input
// partition (partition-writer.ts). Each partition flushes and commits on its own, so a
// partition that is retrying (a poison row, an outage of its table) pauses only itself:
// other partitions and tables keep loading, readiness says which one is failing, and the
// lag keeps growing where records wait.

import type { Admin, Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import type { BigQuery } from '@google-cloud/bigquery';
import type { managedwriter } from '@google-cloud/bigquery-storage';
import type { Logger } from '../common/logger';
import { DecodeError, type AvroSerde } from '../common/serde';
import { runQuery } from './bigquery-jobs';
import { decodeMetadata } from './commit-metadata';
import { describe } from './errors';
import type { Failpoints } from './failpoint';
import type { SinkMetrics } from './metrics';
import { PartitionWriter, type Entry, type PartitionIo } from './partition-writer';
import { backoffMs, type RetryPolicy } from './retry';
import { sinkFailureRow, toRow, type Failure, type Lineage, type Row } from './rows';
import type { SinkTopic } from './config';
import type { TableDef, TableName } from './tables';
import { descriptorOf, tablePath } from './write-api';

export interface BatchPolicy {
  maxRows: number;
  maxBytes: number;
  maxDelayMs: number;
}

export interface RunnerOptions {
  consumer: Consumer;
  admin: Admin;
  groupId: string;
  serde: AvroSerde;
  bq: BigQuery;
  client: managedwriter.WriterClient;
  projectId: string;
  datasetId: string;
  defs: Map<TableName, TableDef>;
  topics: SinkTopic[];
  policy: BatchPolicy;
  retry: RetryPolicy;
  appendMaxRows: number;
  appendMaxBytes: number;
  appendTimeoutMs: number;
  rotateIdleMs: number;
  failpoints: Failpoints;
  logger: Logger;
  metrics: SinkMetrics;
}

const TICK_MS = 20;
const LAG_EVERY_MS = 5000;

export class Runner {
  private readonly writers = new Map<string, PartitionWriter>();
  private readonly paused = new Set<string>();
  /** Partitions reset after an error, with the error and when to try again. */
  private readonly resets = new Map<string, { error: string; attempt: number; notBefore: number }>();
  private readonly tableOf: Map<string, TableName>;
  private readonly descriptors = new Map<TableName, ReturnType<typeof descriptorOf>>();
  private readonly committer: Committer;
  private currentBatch: Promise<void> | null = null;
  private timers: NodeJS.Timeout[] = [];
  private stopping = false;
  private joined = false;
  private crashed: Error | null = null;

  constructor(private readonly o: RunnerOptions) {
    this.tableOf = new Map(o.topics.map((t) => [t.spec.name, t.table]));
    for (const [name, def] of o.defs) this.descriptors.set(name, descriptorOf(def.fields));
    this.committer = new Committer(o.consumer);
  }

  /** Whether the consumer is in its group and not crashed (readiness). */
  get consuming(): boolean {
    return this.joined && !this.crashed && !this.stopping;
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  /** Why writing is failing now (a partition being retried or reset), or null. */
  get loadFailing(): string | null {
    for (const [key, w] of this.writers) if (w.failing) return `${key}: ${w.failing}`;
    for (const [key, r] of this.resets) return `${key}: ${r.error}`;
    return null;
  }

  async start(onCrash: (err: Error) => void): Promise<void> {
    const { consumer } = this.o;
    consumer.on(consumer.events.GROUP_JOIN, () => {
      this.joined = true;
      // A new generation: kafkajs fetches every assigned partition from its committed
      // offset again, so every writer starts over with a recovery.
      this.revokeAll();
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart) return;
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
    this.timers.push(setInterval(() => this.tick(), TICK_MS));
    this.timers.push(setInterval(() => void this.refreshLag(), LAG_EVERY_MS));
  }

  /**
   * Graceful stop: stop taking records, flush each partition once (no endless retries),
   * commit, disconnect. Whatever is not committed is read again by the next owner.
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    try {
      this.o.consumer.pause([...this.tableOf.keys()].map((topic) => ({ topic })));
    } catch {
      // not running yet
    }
    await this.currentBatch?.catch(() => undefined);
    await Promise.all(
      [...this.writers.values()].map(async (w) => {
        await w.flushing;
        if (w.rows > 0 && !w.isRevoked) {
          await w.flush().catch((err: unknown) => {
            w.log.warn({ err: describe(err) }, 'final flush failed; the records will be read again');
          });
        }
        w.revoke();
      }),
    );
    await this.o.consumer.disconnect();
    this.o.client.close();
  }

  private writerFor(topic: string, partition: number): PartitionWriter {
    const key = `${topic}:${partition}`;
    let w = this.writers.get(key);
    if (w) return w;
    const table = this.tableOf.get(topic)!;
    w = new PartitionWriter({
      topic,
      partition,
      table,
      io: this.io(topic, partition),
      retry: this.o.retry,
      appendMaxRows: this.o.appendMaxRows,
      appendMaxBytes: this.o.appendMaxBytes,
      appendTimeoutMs: this.o.appendTimeoutMs,
      rotateIdleMs: this.o.rotateIdleMs,
      logger: this.o.logger,
      metrics: this.o.metrics,
      failpoints: this.o.failpoints,
      stopping: () => this.stopping,
    });
    this.writers.set(key, w);
    return w;
  }

  private io(topic: string, partition: number): PartitionIo {
    const { admin, groupId, projectId, datasetId, bq } = this.o;
    return {
      client: this.o.client,
      tablePath: (table) => tablePath(projectId, datasetId, table),
      descriptor: (table) => this.descriptors.get(table)!,
      readCommitted: async () => {
        const [res] = await admin.fetchOffsets({ groupId, topics: [topic] });
        const p = res?.partitions.find((x) => x.partition === partition);
        const offset = p && Number(p.offset) >= 0 ? BigInt(p.offset) : null;
        return { offset, metadata: decodeMetadata(p?.metadata) };
      },
      commit: (offset, metadata) =>
        this.committer.commit({ topic, partition, offset: offset.toString(), metadata }),
      offsetsSince: async (table, offset) => {
        const res = await runQuery(
          bq,
          `SELECT DISTINCT kafka_offset FROM \`${datasetId}.${table}\`
           WHERE kafka_topic = @topic AND kafka_partition = @partition AND kafka_offset >= @from`,
          { topic, partition, from: Number(offset) },
        );
        let maxOffset = -1;
        const offsets = new Set<string>();
        for (const r of res.rows) {
          offsets.add(String(r.kafka_offset));
          maxOffset = Math.max(maxOffset, Number(r.kafka_offset));
        }
        return { offsets, maxOffset };
      },
    };
  }

  private async eachBatch({
    batch,
    resolveOffset,
    isRunning,
    isStale,
    pause,
  }: EachBatchPayload): Promise<void> {
    const { topic, partition } = batch;
    const key = `${topic}:${partition}`;
    const reset = this.resets.get(key);
    if (reset && Date.now() < reset.notBefore) {
      // Backing off after a reset: read nothing yet (the fetch is repeated later).
      this.pauseFor(key, topic, partition, pause, reset.notBefore - Date.now());
      return;
    }
    const w = this.writerFor(topic, partition);
    for (const message of batch.messages) {
      if (this.stopping || !isRunning() || isStale() || w.isRevoked) return;
      const offset = BigInt(message.offset);
      if (w.expectedOffset !== null && offset < w.expectedOffset) continue; // already buffered
      if (w.full(this.o.policy.maxRows, this.o.policy.maxBytes)) {
        // Backpressure for this partition only: read again from here once it has flushed.
        pause();
        this.paused.add(key);
        return;
      }
      const rows = await this.rowsOf(topic, partition, message);
      const bytes = rows.reduce((n, r) => n + r.bytes, 0);
      const entry: Entry = { offset, rows, bytes };
      w.add(entry, Date.now());
      resolveOffset(message.offset);
      this.o.metrics.recordsConsumed.inc({ topic });
    }
  }

  private pauseFor(key: string, topic: string, partition: number, pause: () => () => void, ms: number): void {
    if (this.paused.has(key)) return;
    pause();
    this.paused.add(key);
    setTimeout(() => this.resume(key, topic, partition), ms).unref();
  }

  private resume(key: string, topic: string, partition: number): void {
    if (!this.paused.delete(key) || this.stopping) return;
    try {
      this.o.consumer.resume([{ topic, partitions: [partition] }]);
    } catch {
      // not running any more
    }
  }

  private async rowsOf(topic: string, partition: number, message: KafkaMessage): Promise<Row[]> {
    const lineage: Lineage = { topic, partition, offset: message.offset };
    const value = message.value;
    if (value === null) return []; // a tombstone (compacted topics) carries no data
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
    if (this.stopping) return;
    const now = Date.now();
    const { maxRows, maxBytes, maxDelayMs } = this.o.policy;
    let buffered = 0;
    let failing = 0;
    for (const [key, w] of this.writers) {
      buffered += w.rows;
      if (w.failing) failing += 1;
      if (w.flushing || w.isRevoked || !w.due(now, maxRows, maxBytes, maxDelayMs)) continue;
      this.flush(key, w);
    }
    this.o.metrics.bufferedRows.set(buffered);
    this.o.metrics.partitionsFailing.set(failing + this.resets.size);
  }

  private flush(key: string, w: PartitionWriter): void {
    const timer = this.o.metrics.flushSeconds.startTimer();
    w.flushing = (async () => {
      try {
        await w.flush();
        timer();
        this.resets.delete(key);
      } catch (err) {
        if (this.stopping || w.isRevoked) return;
        this.reset(key, w, err);
      } finally {
        w.flushing = null;
        if (this.paused.has(key) && !w.full(this.o.policy.maxRows, this.o.policy.maxBytes)) {
          const [topic, partition] = splitKey(key);
          this.resume(key, topic, partition);
        }
      }
    })();
  }

  /**
   * A partition whose stream is lost, fenced or inconsistent starts over: its buffer is
   * dropped, the consumer goes back to the committed offset, and the next flush recovers
   * (after a backoff, so an error that persists is not a busy loop).
   */
  private reset(key: string, w: PartitionWriter, err: unknown): void {
    const prev = this.resets.get(key);
    const attempt = (prev?.attempt ?? 0) + 1;
    const wait = backoffMs(attempt, this.o.retry.initialMs, this.o.retry.maxMs);
    this.resets.set(key, { error: describe(err), attempt, notBefore: Date.now() + wait });
    this.o.metrics.errors.inc({ kind: `partition_reset` });
    w.log.error(
      { err: describe(err), waitMs: wait },
      'partition reset: reading again from the committed offset',
    );
    w.revoke();
    this.writers.delete(key);
    const [topic, partition] = splitKey(key);
    const offset = w.committedOffset ?? w.firstOffset;
    if (offset !== null) {
      try {
        this.o.consumer.seek({ topic, partition, offset: offset.toString() });
      } catch (e) {
        w.log.warn({ err: describe(e) }, 'seek failed');
      }
    }
    this.resume(key, topic, partition);
  }

  private revokeAll(): void {
    for (const w of this.writers.values()) w.revoke();
    this.writers.clear();
    this.paused.clear();
  }

  /** Lag from the brokers' high watermarks, refreshed also while partitions are stuck. */
  private async refreshLag(): Promise<void> {
    const byTopic = new Map<string, PartitionWriter[]>();
    for (const [key, w] of this.writers) {
      const [topic] = splitKey(key);
      byTopic.set(topic, [...(byTopic.get(topic) ?? []), w]);
    }
    for (const [topic, writers] of byTopic) {
      try {
        const offsets = await this.o.admin.fetchTopicOffsets(topic);
        for (const w of writers) {
          const p = offsets.find((x) => x.partition === w.partition);
          if (!p) continue;
          const from = w.committedOffset ?? BigInt(p.low);
          this.o.metrics.lag.set({ topic, partition: String(w.partition) }, Number(BigInt(p.high) - from));
        }
      } catch (err) {
        this.o.logger.debug({ err: describe(err) }, 'lag refresh failed');
      }
    }
  }
}

function splitKey(key: string): [string, number] {
  const i = key.lastIndexOf(':');
  return [key.slice(0, i), Number(key.slice(i + 1))];
}

interface OffsetCommit {
  topic: string;
  partition: number;
  offset: string;
  metadata: string;
}

/**
 * Coalesces the partitions' commits: one OffsetCommit request in flight, carrying every
 * commit queued meanwhile (the latest per partition).
 */
class Committer {
  private queued = new Map<
    string,
    { c: OffsetCommit; waiters: { resolve: () => void; reject: (e: unknown) => void }[] }
  >();
  private running = false;

  constructor(private readonly consumer: Consumer) {}

  commit(c: OffsetCommit): Promise<void> {
    return new Promise((resolve, reject) => {
      const key = `${c.topic}:${c.partition}`;
      const prev = this.queued.get(key);
      this.queued.set(key, { c, waiters: [...(prev?.waiters ?? []), { resolve, reject }] });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    while (this.queued.size > 0) {
      const batch = [...this.queued.values()];
      this.queued.clear();
      try {
        await this.consumer.commitOffsets(batch.map((b) => b.c));
        for (const b of batch) for (const w of b.waiters) w.resolve();
      } catch (err) {
        for (const b of batch) for (const w of b.waiters) w.reject(err);
      }
    }
    this.running = false;
  }
}
