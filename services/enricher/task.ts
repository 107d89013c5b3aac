// One input partition: its processor (state), its own transactional producer and the
// transaction that commits outputs, changelog and input offsets together.
//
// Why one producer per partition (EOS-alpha, as Kafka Streams before KIP-447): kafkajs's
// sendOffsets carries no consumer generation, so the broker cannot tell a zombie owner of a
// partition from the current one. A transactional id derived from the partition can: when the
// partition's new owner initialises the producer, the broker bumps the epoch, aborts the old
// owner's open transaction and rejects its later commits.

import type { Kafka, KafkaMessage, Message, Producer } from 'kafkajs';
import type { Logger } from '../common/logger';
import type { Exposure, TrackingEvent } from '../common/records';
import { DecodeError, type AvroSerde } from '../common/serde';
import type { EnricherTopics } from './config';
import type { ExperimentLookup } from './experiments';
import type { EnricherMetrics } from './metrics';
import {
  PartitionProcessor,
  type ChangelogRecord,
  type IdleDecision,
  type Output,
  type Polled,
  type ProcessorOptions,
} from './processor';
import { watermarkOf } from './windows';

export type Input = 'events' | 'exposures';

export interface TaskDeps {
  kafka: Kafka;
  groupId: string;
  topics: EnricherTopics;
  serde: AvroSerde;
  experiments: ExperimentLookup;
  processor: Omit<ProcessorOptions, 'partition' | 'topics'>;
  transactionTimeoutMs: number;
  /** Input records processed per transaction at most. */
  maxRecordsPerTransaction: number;
  logger: Logger;
  metrics: EnricherMetrics;
}

export function transactionalId(groupId: string, partition: number): string {
  return `${groupId}-p${partition}`;
}

/** Creates the partition's producer and fences any previous owner; call before reading its changelog. */
export async function fencedProducer(deps: TaskDeps, partition: number): Promise<Producer> {
  const producer = deps.kafka.producer({
    transactionalId: transactionalId(deps.groupId, partition),
    idempotent: true,
    maxInFlightRequests: 1,
    transactionTimeout: deps.transactionTimeoutMs,
  });
  await producer.connect();
  // kafkajs initialises the producer id (InitProducerId: epoch bump, zombie's transaction
  // aborted) on the first transaction; an empty abort sends nothing else.
  const txn = await producer.transaction();
  await txn.abort();
  return producer;
}

export class PartitionTask {
  readonly processor: PartitionProcessor;
  /** Serialises batches of both inputs and ticks: one transaction at a time per partition. */
  private lock: Promise<unknown> = Promise.resolve();
  private broken: Error | undefined;
  /** Wall-clock time of the last record received per input (idleness). */
  readonly lastRecordAt: Record<Input, number>;
  readonly highWatermark: Record<Input, number> = { events: 0, exposures: 0 };
  private readonly log: Logger;

  constructor(
    readonly partition: number,
    private readonly producer: Producer,
    restored: ChangelogRecord[],
    private readonly deps: TaskDeps,
  ) {
    this.processor = new PartitionProcessor(
      { ...deps.processor, partition, topics: { events: deps.topics.raw, exposures: deps.topics.exposures } },
      deps.experiments,
      restored,
    );
    const now = Date.now();
    this.lastRecordAt = { events: now, exposures: now };
    this.log = deps.logger.child({ partition });
    this.log.info({ restored: restored.length, meta: this.processor.meta }, 'partition task ready');
  }

  get failed(): boolean {
    return this.broken !== undefined;
  }

  /** Next offset this task expects on an input (queued or processed). */
  position(input: Input): number {
    return input === 'events' ? this.processor.meta.eventsNext : this.processor.meta.exposuresNext;
  }

  /** Decodes and queues a fetched batch, runs the merge and commits what it produced. */
  onBatch(input: Input, messages: KafkaMessage[], highWatermark: number): Promise<void> {
    return this.serial(async () => {
      const topic = input === 'events' ? this.deps.topics.raw : this.deps.topics.exposures;
      for (const message of messages) {
        const polled = await this.decode(topic, message);
        if (input === 'events') this.processor.pushEvent(polled as Polled<TrackingEvent>);
        else this.processor.pushExposure(polled as Polled<Exposure>);
      }
      if (messages.length > 0) this.lastRecordAt[input] = Date.now();
      this.highWatermark[input] = highWatermark;
      await this.step({ events: false, exposures: false });
    });
  }

  /** Periodic step with idleness: lets one input proceed when the other is quiet. */
  tick(idle: { events: boolean; exposures: boolean }): Promise<void> {
    return this.serial(() => this.step(idle));
  }

  /**
   * The whole partition is idle: lets stream time follow the wall clock so quiet windows close,
   * and commits the decision with the windows it closed (one transaction).
   */
  advanceIdle(now: number): Promise<void> {
    return this.serial(async () => {
      const decision = this.processor.advanceIdle(now);
      if (decision) await this.commitStep(decision);
    });
  }

  /** Waits for the in-flight transaction, then closes the producer. */
  async close(): Promise<void> {
    await this.lock.catch(() => undefined);
    this.broken ??= new Error('closed');
    await this.producer.disconnect().catch(() => undefined);
  }

  private serial(fn: () => Promise<void>): Promise<void> {
    const run = this.lock.then(() => {
      if (this.broken) throw this.broken;
      return fn();
    });
    this.lock = run.catch(() => undefined);
    return run;
  }

  private async decode(topic: string, message: KafkaMessage): Promise<Polled<unknown>> {
    const offset = Number(message.offset);
    try {
      return { offset, value: await this.deps.serde.decode(topic, message.value) };
    } catch (err) {
      // Poison records become failed events; anything else (registry unreachable) is retried.
      if (!(err instanceof DecodeError)) throw err;
      return {
        offset,
        failure: {
          payload: message.value,
          code: err.code,
          message: err.message,
          at: Number(message.timestamp),
        },
      };
    }
  }

  private async step(idle: { events: boolean; exposures: boolean }): Promise<void> {
    // Bounded transactions: a backlog released at once (e.g. after a restore) must not become
    // one produce request above the broker's message size limit, or it would fail forever.
    while (this.processor.run(idle, this.deps.maxRecordsPerTransaction) > 0) await this.commitStep();
  }

  private async commitStep(decision?: IdleDecision): Promise<void> {
    const { outputs, changelog } = this.processor.drain();
    const t0 = process.hrtime.bigint();
    try {
      await this.commit(outputs, changelog, decision);
    } catch (err) {
      // The in-memory state is ahead of what Kafka holds: this task is unusable. The runner
      // rebuilds it from the changelog (and the committed offsets) after restarting the consumer.
      this.broken = err as Error;
      this.deps.metrics.transactions.inc({ outcome: 'failed' });
      this.log.error({ err }, 'transaction failed; the partition will be restored');
      throw err;
    }
    this.deps.metrics.transactionSeconds.observe(Number(process.hrtime.bigint() - t0) / 1e9);
    this.deps.metrics.transactions.inc({ outcome: 'committed' });
    this.report();
  }

  private async commit(
    outputs: Output[],
    changelog: ChangelogRecord[],
    decision?: IdleDecision,
  ): Promise<void> {
    const { serde, topics } = this.deps;
    const p = this.partition;
    const byTopic = new Map<string, Message[]>();
    const add = (topic: string, message: Message) => {
      let list = byTopic.get(topic);
      if (!list) byTopic.set(topic, (list = []));
      list.push(message);
    };
    for (const out of outputs) {
      switch (out.kind) {
        case 'event':
          add(topics.cleanEvents, {
            key: out.value.unitId,
            value: serde.encode(topics.cleanEvents, out.value),
            partition: p,
          });
          break;
        case 'exposure':
          add(topics.cleanExposures, {
            key: out.value.unitId,
            value: serde.encode(topics.cleanExposures, out.value),
            partition: p,
          });
          break;
        case 'enriched':
          add(topics.enriched, {
            key: out.value.unitId,
            value: serde.encode(topics.enriched, out.value),
            partition: p,
          });
          break;
        case 'late':
          add(topics.late, {
            key: out.value.unitId,
            value: serde.encode(topics.late, out.value),
            partition: p,
          });
          break;
        case 'aggregate': {
          const a = out.value;
          add(topics.aggregates, {
            key: `${a.experimentKey}|${a.variationId}|${a.metric ?? ''}|${a.windowStart}`,
            value: serde.encode(topics.aggregates, a),
            partition: p,
          });
          break;
        }
        case 'failed':
          add(topics.failed, { key: out.value.failureId, value: serde.encode(topics.failed, out.value) });
          break;
      }
    }
    for (const rec of changelog) add(topics.changelog, { key: rec.key, value: rec.value, partition: p });
    if (decision) add(topics.decisions, { key: String(p), value: JSON.stringify(decision), partition: p });

    const txn = await this.producer.transaction();
    try {
      await txn.sendBatch({
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
        acks: -1,
      });
      await txn.sendOffsets({
        consumerGroupId: this.deps.groupId,
        topics: [
          {
            topic: topics.raw,
            partitions: [{ partition: p, offset: String(this.processor.meta.eventsNext) }],
          },
          {
            topic: topics.exposures,
            partitions: [{ partition: p, offset: String(this.processor.meta.exposuresNext) }],
          },
        ],
      });
      await txn.commit();
    } catch (err) {
      await txn.abort().catch(() => undefined);
      throw err;
    }
  }

  private report(): void {
    const { metrics } = this.deps;
    const p = String(this.partition);
    const proc = this.processor;
    metrics.count(proc.counters);
    for (const key of Object.keys(proc.counters) as (keyof typeof proc.counters)[]) proc.counters[key] = 0;
    metrics.watermark.set(
      { partition: p },
      Math.max(0, watermarkOf(proc.meta.streamTime, this.deps.processor.windows.graceMs)),
    );
    metrics.openWindows.set({ partition: p }, proc.windows.size);
    metrics.stateSize.set({ partition: p }, proc.store.size);
    metrics.dedupeIds.set({ partition: p }, proc.seen.size);
    metrics.held.set({ input: 'events', partition: p }, proc.held.events);
    metrics.held.set({ input: 'exposures', partition: p }, proc.held.exposures);
    metrics.lag.set(
      { topic: this.deps.topics.raw, partition: p },
      Math.max(0, this.highWatermark.events - proc.meta.eventsNext),
    );
    metrics.lag.set(
      { topic: this.deps.topics.exposures, partition: p },
      Math.max(0, this.highWatermark.exposures - proc.meta.exposuresNext),
    );
  }
}
