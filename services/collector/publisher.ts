import { Partitioners, type Admin, type Kafka, type Message, type Producer } from 'kafkajs';
import type { Logger } from '../common/logger';

/** One Kafka record the collector writes. */
export interface OutRecord {
  topic: string;
  key: string;
  value: Buffer;
}

/**
 * Why records were not acknowledged: `overloaded` (the in-flight limit is reached, nothing
 * was sent), `timeout` (no acknowledgement within the produce timeout: the outcome is
 * unknown), `failed` (Kafka refused the batch), `closed` (shutting down).
 */
export type PublishFailure = 'overloaded' | 'timeout' | 'failed' | 'closed';

export class PublishError extends Error {
  constructor(
    readonly code: PublishFailure,
    message: string,
  ) {
    super(message);
    this.name = 'PublishError';
  }
}

/** The Kafka side as the HTTP side sees it. */
export interface Publisher {
  /** Resolves once Kafka acknowledged every record with acks=all; rejects with PublishError. */
  publish(records: OutRecord[]): Promise<void>;
  /** Records accepted by publish() and not yet acknowledged or given up on. */
  readonly inFlight: number;
  /** Whether the producer is connected and its last send succeeded. */
  ready(): boolean;
  start(): Promise<void>;
  /** Stops accepting, waits (bounded) for the records in flight, then disconnects. */
  close(): Promise<void>;
}

export interface PublisherMetrics {
  /** One acknowledged sendBatch: its duration and record count. */
  flushed(seconds: number, records: number): void;
  /** Records not acknowledged, by PublishFailure. */
  failed(code: PublishFailure, records: number): void;
}

export interface KafkaPublisherOptions {
  createProducer: () => Producer;
  logger: Logger;
  metrics: PublisherMetrics;
  /** How long publish() waits for an acknowledgement before giving up with `timeout`. */
  produceTimeoutMs: number;
  /** Admission limit: publish() beyond it rejects at once with `overloaded`. */
  maxInFlightRecords: number;
  /** Upper bounds of one sendBatch; keep bytes under the broker's message.max.bytes. */
  maxBatchBytes: number;
  maxBatchRecords: number;
}

interface Pending {
  records: OutRecord[];
  /** Records handed to a sendBatch so far. */
  sent: number;
  acked: number;
  settled: boolean;
  resolve: () => void;
  reject: (err: PublishError) => void;
  timer: NodeJS.Timeout;
}

/** Per-record overhead in a record batch, so the byte bound stays conservative. */
const RECORD_OVERHEAD = 64;

/**
 * Writes records with an idempotent kafkajs producer and acks=all, coalescing concurrent
 * requests into one sendBatch.
 *
 * kafkajs does not linger or batch across send() calls, so the records of requests that
 * arrive while a sendBatch is in flight are queued and go out together in the next one:
 * batches grow with load and a lone request is sent at once. Exactly one sendBatch is in
 * flight at a time, on purpose: kafkajs reads an idempotent partition's sequence number
 * when it builds a request and advances it on the response, so two concurrent sends to a
 * partition would reuse a sequence and the broker would discard one as a "duplicate".
 *
 * The idempotent producer retries a send until it succeeds (that is what keeps a retried
 * batch from being written twice), so while the broker is down a send hangs. Requests do
 * not: each gives up after produceTimeoutMs, its records still queued are withdrawn and
 * never sent, and memory stays bounded by maxInFlightRecords plus one batch. A send that
 * fails for good replaces the producer, so a new producer id starts with fresh sequences.
 */
export class KafkaPublisher implements Publisher {
  private producer: Producer;
  private connected = false;
  private readonly queue: Pending[] = [];
  private queued = 0;
  private sending = 0;
  private flushStartedAt: number | null = null;
  private scheduled = false;
  private closed = false;
  private lastFailureAt = 0;
  private lastSuccessAt = 0;
  private idle: Promise<void> = Promise.resolve();

  constructor(private readonly opts: KafkaPublisherOptions) {
    this.producer = opts.createProducer();
  }

  get inFlight(): number {
    return this.queued + this.sending;
  }

  async start(): Promise<void> {
    await this.producer.connect();
    this.connected = true;
  }

  ready(): boolean {
    const stuck =
      this.flushStartedAt !== null && Date.now() - this.flushStartedAt > this.opts.produceTimeoutMs;
    return this.connected && !stuck && this.lastFailureAt <= this.lastSuccessAt;
  }

  publish(records: OutRecord[]): Promise<void> {
    if (this.closed) return Promise.reject(new PublishError('closed', 'the collector is shutting down'));
    if (records.length === 0) return Promise.resolve();
    if (this.inFlight + records.length > this.opts.maxInFlightRecords) {
      this.opts.metrics.failed('overloaded', records.length);
      return Promise.reject(
        new PublishError(
          'overloaded',
          `${this.inFlight} records are waiting for Kafka, the limit is reached`,
        ),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const pending: Pending = {
        records,
        sent: 0,
        acked: 0,
        settled: false,
        resolve,
        reject,
        timer: setTimeout(
          () =>
            this.fail(
              pending,
              new PublishError(
                'timeout',
                `Kafka did not acknowledge within ${this.opts.produceTimeoutMs} ms`,
              ),
            ),
          this.opts.produceTimeoutMs,
        ),
      };
      this.queue.push(pending);
      this.queued += records.length;
      this.schedule();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    // Every pending request settles within produceTimeoutMs; a send may still hang on a
    // broker that is down, which the Lifecycle's overall timeout bounds.
    await Promise.race([this.idle, delay(this.opts.produceTimeoutMs)]);
    await this.producer.disconnect().catch(() => undefined);
    this.connected = false;
  }

  // Starting the pump on the next turn lets the requests parsed in this one join the batch.
  private schedule(): void {
    if (this.scheduled || this.flushStartedAt !== null) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.idle = this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (this.flushStartedAt !== null) return;
    while (this.queue.length > 0) {
      const { records, parts } = this.take();
      this.flushStartedAt = Date.now();
      const started = performance.now();
      try {
        await this.send(records);
        this.lastSuccessAt = Date.now();
        this.opts.metrics.flushed((performance.now() - started) / 1000, records.length);
        for (const [pending, count] of parts) {
          pending.acked += count;
          if (pending.acked === pending.records.length) this.settle(pending);
        }
      } catch (err) {
        this.lastFailureAt = Date.now();
        this.opts.logger.error(
          { err, records: records.length },
          'Kafka refused a batch; replacing the producer',
        );
        const failure = new PublishError('failed', `Kafka refused the batch: ${(err as Error).message}`);
        for (const [pending] of parts) this.fail(pending, failure);
        await this.replaceProducer();
      } finally {
        this.sending -= records.length;
        this.flushStartedAt = null;
      }
    }
  }

  /** The next batch: queued records in arrival order, within the batch bounds. */
  private take(): { records: OutRecord[]; parts: [Pending, number][] } {
    const records: OutRecord[] = [];
    const parts: [Pending, number][] = [];
    let bytes = 0;
    while (this.queue.length > 0) {
      const pending = this.queue[0]!;
      const before = records.length;
      while (pending.sent < pending.records.length) {
        const record = pending.records[pending.sent]!;
        const size = record.value.length + record.key.length + RECORD_OVERHEAD;
        const full = bytes + size > this.opts.maxBatchBytes || records.length >= this.opts.maxBatchRecords;
        if (full && records.length > 0) break;
        records.push(record);
        bytes += size;
        pending.sent++;
      }
      if (records.length > before) parts.push([pending, records.length - before]);
      if (pending.sent < pending.records.length) break; // the batch is full
      this.queue.shift();
    }
    this.queued -= records.length;
    this.sending += records.length;
    return { records, parts };
  }

  private async send(records: OutRecord[]): Promise<void> {
    if (!this.connected) {
      await this.producer.connect();
      this.connected = true;
    }
    const byTopic = new Map<string, Message[]>();
    for (const { topic, key, value } of records) {
      let messages = byTopic.get(topic);
      if (!messages) byTopic.set(topic, (messages = []));
      messages.push({ key, value });
    }
    await this.producer.sendBatch({
      acks: -1,
      topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
    });
  }

  private async replaceProducer(): Promise<void> {
    const old = this.producer;
    this.connected = false;
    this.producer = this.opts.createProducer();
    await Promise.race([old.disconnect().catch(() => undefined), delay(2_000)]);
  }

  /** Gives up on a request: its records not yet sent are withdrawn and will never be written. */
  private fail(pending: Pending, err: PublishError): void {
    if (pending.settled) return;
    const unsent = pending.records.length - pending.sent;
    if (unsent > 0) {
      this.queued -= unsent;
      pending.sent = pending.records.length;
      const at = this.queue.indexOf(pending);
      if (at !== -1) this.queue.splice(at, 1);
    }
    this.opts.metrics.failed(err.code, pending.records.length - pending.acked);
    this.settle(pending, err);
  }

  private settle(pending: Pending, err?: PublishError): void {
    if (pending.settled) return;
    pending.settled = true;
    clearTimeout(pending.timer);
    if (err) pending.reject(err);
    else pending.resolve();
  }
}

/**
 * The producer the collector needs: idempotent (a retried batch is written once), one
 * request in flight per broker (required for ordering with idempotence in kafkajs),
 * retrying until it succeeds (fewer retries would break idempotence, see KafkaPublisher),
 * the Java client's partitioner (murmur2), so keys land where other producers put them.
 */
export function producerFactory(kafka: Kafka): () => Producer {
  return () =>
    kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: Number.MAX_SAFE_INTEGER },
    });
}

/** Kafka production switched off: records are dropped as soon as they are encoded. For benchmarks only. */
export class NullPublisher implements Publisher {
  readonly inFlight = 0;
  publish(): Promise<void> {
    return Promise.resolve();
  }
  ready(): boolean {
    return true;
  }
  async start(): Promise<void> {}
  async close(): Promise<void> {}
}

/**
 * A readiness probe of the broker itself (a metadata request), for when no traffic flows
 * and the producer cannot tell. Single-flight: a probe that hangs on a broker that is down
 * is awaited by later calls rather than multiplied.
 */
export function brokerProbe(admin: Admin, topic: string, timeoutMs: number): () => Promise<boolean> {
  let running: Promise<boolean> | null = null;
  return () => {
    running ??= admin
      .fetchTopicMetadata({ topics: [topic] })
      .then(() => true)
      .finally(() => {
        running = null;
      });
    return Promise.race([running, delay(timeoutMs).then(() => false)]);
  };
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
