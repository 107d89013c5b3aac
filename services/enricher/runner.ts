// The consumer side: group membership with co-partitioned assignment, per-partition tasks
// (fence, restore, process), idleness ticks, backpressure, restart after a failed transaction,
// and the registry table follower.

import { randomUUID } from 'node:crypto';
import {
  AssignerProtocol,
  type Admin,
  type Consumer,
  type EachBatchPayload,
  type IMemberAssignment,
  type Kafka,
  type PartitionAssigner,
  type Producer,
} from 'kafkajs';
import type { Logger } from '../common/logger';
import type { RegistryChange } from '../common/records';
import { DecodeError, type AvroSerde } from '../common/serde';
import type { ExperimentTable } from './experiments';
import type { ChangelogRecord } from './processor';
import { PartitionTask, fencedProducer, type Input, type TaskDeps } from './task';

/**
 * Gives each member the same partition numbers of every subscribed topic, so a unit's raw
 * events and exposures (equal partition counts, keyed alike) meet in one task. kafkajs's
 * round-robin assigner does not guarantee that.
 */
export const coPartitionedAssigner: PartitionAssigner = ({ cluster }) => ({
  name: 'XpCoPartitioned',
  version: 1,
  async assign({ members, topics }) {
    const sorted = members.map((m) => m.memberId).sort();
    const counts = topics.map((t) => cluster.findTopicPartitionMetadata(t).length);
    const partitions = Math.max(0, ...counts);
    const assignment = new Map<string, Record<string, number[]>>(
      sorted.map((id) => [id, Object.fromEntries(topics.map((t) => [t, [] as number[]]))]),
    );
    for (let p = 0; p < partitions; p++) {
      const member = assignment.get(sorted[p % sorted.length]!)!;
      topics.forEach((t, i) => {
        if (p < counts[i]!) member[t]!.push(p);
      });
    }
    return sorted.map((memberId) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({
        version: 1,
        assignment: assignment.get(memberId)!,
        userData: Buffer.alloc(0),
      }),
    }));
  },
  protocol({ topics }) {
    return {
      name: 'XpCoPartitioned',
      metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }),
    };
  },
});

/**
 * Reads partitions of a topic from the beginning up to their end offsets as of the call
 * (read_committed), through a throwaway consumer group (kafkajs has no manual assignment).
 * `onRecord` sees every record of the wanted partitions in offset order.
 */
export async function readToEnd(opts: {
  kafka: Kafka;
  admin: Admin;
  topic: string;
  partitions: number[];
  groupPrefix: string;
  onRecord: (
    partition: number,
    key: Buffer | null,
    value: Buffer | null,
    offset: string,
    timestamp: string,
  ) => Promise<void> | void;
  /** Keep consuming after the end was reached (a followed table); default false. */
  follow?: boolean;
  logger: Logger;
  timeoutMs?: number;
}): Promise<{ consumer: Consumer | undefined }> {
  const offsets = await opts.admin.fetchTopicOffsets(opts.topic);
  const end = new Map<number, number>();
  for (const o of offsets) {
    if (opts.partitions.includes(o.partition) && Number(o.high) > Number(o.low))
      end.set(o.partition, Number(o.high));
  }
  if (end.size === 0 && !opts.follow) return { consumer: undefined };
  const consumer = opts.kafka.consumer({
    groupId: `${opts.groupPrefix}-${randomUUID()}`,
    readUncommitted: false,
    maxBytesPerPartition: 4 * 1024 * 1024,
    sessionTimeout: 30_000,
  });
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const progress = (partition: number, next: number) => {
    const target = end.get(partition);
    if (target !== undefined && next >= target) end.delete(partition);
    if (end.size === 0) resolveDone();
  };
  if (end.size === 0) resolveDone();
  // END_BATCH_PROCESS also fires for batches that held only transaction markers, which
  // eachBatch never sees; the last record of a transactional partition is such a marker.
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (payload.topic === opts.topic) progress(payload.partition, Number(payload.lastOffset) + 1);
  });
  await consumer.connect();
  await consumer.subscribe({ topic: opts.topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      if (!opts.partitions.includes(batch.partition)) return;
      for (const m of batch.messages) {
        await opts.onRecord(batch.partition, m.key ?? null, m.value, m.offset, m.timestamp);
      }
    },
  });
  const timeoutMs = opts.timeoutMs ?? 120_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      done,
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`reading ${opts.topic} timed out after ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]);
  } catch (err) {
    await consumer.disconnect().catch(() => undefined);
    throw err;
  } finally {
    clearTimeout(timer);
  }
  if (opts.follow) return { consumer };
  await consumer.disconnect();
  return { consumer: undefined };
}

/** Follows the registry-changes topic into the table; resolves once it caught up with the topic's end. */
export async function followRegistry(opts: {
  kafka: Kafka;
  admin: Admin;
  serde: AvroSerde;
  topic: string;
  failedTopic: string;
  table: ExperimentTable;
  groupPrefix: string;
  logger: Logger;
  onChange?: () => void;
}): Promise<{ stop: () => Promise<void> }> {
  const producer: Producer = opts.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const { consumer } = await readToEnd({
    kafka: opts.kafka,
    admin: opts.admin,
    topic: opts.topic,
    partitions: [0],
    groupPrefix: `${opts.groupPrefix}-registry`,
    follow: true,
    logger: opts.logger,
    onRecord: async (partition, _key, value, offset, timestamp) => {
      try {
        const change = await opts.serde.decode<RegistryChange>(opts.topic, value);
        opts.table.apply(change);
        opts.onChange?.();
      } catch (err) {
        if (
          !(err instanceof DecodeError) &&
          !(err instanceof SyntaxError) &&
          !/snapshot/.test((err as Error).message)
        )
          throw err;
        opts.logger.warn(
          { offset, code: (err as DecodeError).code },
          'registry change not usable; sent to failed events',
        );
        await producer.send({
          topic: opts.failedTopic,
          acks: -1,
          messages: [
            {
              key: `enricher:${opts.topic}:${partition}:${offset}`,
              value: opts.serde.encode(opts.failedTopic, {
                failureId: `enricher:${opts.topic}:${partition}:${offset}`,
                stage: 'enricher',
                failedAt: Number(timestamp),
                messageId: null,
                payload: value ?? Buffer.alloc(0),
                reasons: [
                  {
                    code: (err as DecodeError).code ?? 'invalid_snapshot',
                    path: 'snapshot',
                    message: (err as Error).message,
                  },
                ],
                sourceId: null,
                sourceTopic: opts.topic,
                sourcePartition: partition,
                sourceOffset: Number(offset),
              }),
            },
          ],
        });
      }
    },
  });
  return {
    stop: async () => {
      await consumer?.disconnect();
      await producer.disconnect();
    },
  };
}

export interface RunnerOptions {
  task: TaskDeps;
  admin: Admin;
  idleMs: number;
  maxHeld: number;
  partitionsConsumedConcurrently: number;
  maxBytesPerPartition: number;
  sessionTimeoutMs: number;
}

const INPUTS: Input[] = ['events', 'exposures'];

export class Runner {
  private consumer: Consumer | undefined;
  private readonly tasks = new Map<number, PartitionTask>();
  private readonly opening = new Map<number, Promise<PartitionTask>>();
  private assigned = new Set<number>();
  private readonly paused = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private stopping = false;
  private restarting: Promise<void> | undefined;
  private readonly log: Logger;
  /** Consumer is running and every assigned partition has a ready task. */
  running = false;

  constructor(private readonly opts: RunnerOptions) {
    this.log = opts.task.logger.child({ component: 'runner' });
  }

  private topicOf(input: Input): string {
    return input === 'events' ? this.opts.task.topics.raw : this.opts.task.topics.exposures;
  }

  get partitions(): number[] {
    return [...this.tasks.keys()].sort((a, b) => a - b);
  }

  task(partition: number): PartitionTask | undefined {
    return this.tasks.get(partition);
  }

  async start(): Promise<void> {
    await this.startConsumer();
    this.timer = setInterval(() => void this.tick(), Math.max(20, Math.floor(this.opts.idleMs / 4)));
  }

  /** Graceful stop: no new batches, the in-flight transaction finishes, producers disconnect. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await this.restarting?.catch(() => undefined);
    await this.consumer?.stop().catch(() => undefined);
    await Promise.all([...this.tasks.values()].map((t) => t.close()));
    this.tasks.clear();
    await this.consumer?.disconnect().catch(() => undefined);
    this.running = false;
  }

  private async startConsumer(): Promise<void> {
    const { topics, groupId } = this.opts.task;
    const consumer = this.opts.task.kafka.consumer({
      groupId,
      partitionAssigners: [coPartitionedAssigner],
      sessionTimeout: this.opts.sessionTimeoutMs,
      rebalanceTimeout: 60_000,
      maxBytesPerPartition: this.opts.maxBytesPerPartition,
      readUncommitted: false,
    });
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => this.onAssignment(payload.memberAssignment));
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.log.error({ err: payload.error, restart: payload.restart }, 'consumer crashed');
      if (!payload.restart) void this.restart(payload.error);
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [topics.raw, topics.exposures], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.opts.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.onBatch(payload),
    });
    this.consumer = consumer;
    this.running = true;
  }

  /** After a failed transaction the in-memory state is ahead of Kafka: rejoin and rebuild every task. */
  private restart(err: unknown): Promise<void> {
    if (this.stopping) return Promise.resolve();
    this.restarting ??= (async () => {
      this.log.warn({ err }, 'restarting the consumer; partitions are restored from the changelog');
      this.running = false;
      const consumer = this.consumer;
      this.consumer = undefined;
      await consumer?.disconnect().catch(() => undefined);
      await Promise.all([...this.tasks.values()].map((t) => t.close()));
      this.tasks.clear();
      this.paused.clear();
      await Promise.allSettled(this.opening.values());
      if (!this.stopping) await this.startConsumer();
    })()
      .catch((e: unknown) => {
        this.log.fatal(
          { err: e },
          'consumer restart failed; exiting so the supervisor restarts the enricher',
        );
        process.exit(1);
      })
      .finally(() => {
        this.restarting = undefined;
      });
    return this.restarting;
  }

  private onAssignment(assignment: IMemberAssignment): void {
    const { raw, exposures } = this.opts.task.topics;
    const ex = new Set(assignment[exposures] ?? []);
    const now = new Set((assignment[raw] ?? []).filter((p) => ex.has(p)));
    this.assigned = now;
    this.log.info({ partitions: [...now].sort() }, 'partitions assigned');
    for (const [p, task] of this.tasks) {
      if (!now.has(p)) {
        this.tasks.delete(p);
        void task.close();
      }
    }
    const fresh = [...now].filter((p) => !this.tasks.has(p) && !this.opening.has(p));
    if (fresh.length > 0) this.openPartitions(fresh);
    this.resumeAll();
  }

  /** Fences each partition's previous owner, then restores all their states in one pass. */
  private openPartitions(partitions: number[]): void {
    const deps = this.opts.task;
    const all = (async () => {
      const producers = await Promise.all(partitions.map((p) => fencedProducer(deps, p)));
      try {
        const restored = new Map<number, Map<string, ChangelogRecord>>(partitions.map((p) => [p, new Map()]));
        await readToEnd({
          kafka: deps.kafka,
          admin: this.opts.admin,
          topic: deps.topics.changelog,
          partitions,
          groupPrefix: `${deps.groupId}-restore`,
          logger: this.log,
          onRecord: (p, key, value) => {
            if (!key) return;
            const k = key.toString();
            restored.get(p)!.set(k, { key: k, value: value === null ? null : value.toString() });
          },
        });
        return partitions.map((p, i) => {
          const records = [...restored.get(p)!.values()];
          deps.metrics.restores.inc();
          deps.metrics.restoredRecords.inc(records.length);
          return new PartitionTask(p, producers[i]!, records, deps);
        });
      } catch (err) {
        await Promise.all(producers.map((pr) => pr.disconnect().catch(() => undefined)));
        throw err;
      }
    })();
    partitions.forEach((p, i) => {
      const one = all.then((tasks) => tasks[i]!);
      this.opening.set(p, one);
      one.then(
        (task) => {
          if (this.opening.get(p) === one) this.opening.delete(p);
          if (this.assigned.has(p) && !this.stopping && !this.tasks.has(p)) this.tasks.set(p, task);
          else void task.close();
        },
        (err: unknown) => {
          if (this.opening.get(p) === one) this.opening.delete(p);
          this.log.error({ err, partition: p }, 'opening the partition failed');
        },
      );
    });
  }

  private async taskFor(partition: number, heartbeat: () => Promise<void>): Promise<PartitionTask> {
    for (;;) {
      const task = this.tasks.get(partition);
      if (task && !task.failed) return task;
      if (!this.opening.has(partition)) this.openPartitions([partition]);
      const pending = this.opening.get(partition)!;
      // Restoring may take longer than a session timeout: keep the membership alive meanwhile.
      const beat = setInterval(() => void heartbeat().catch(() => undefined), 2_000);
      try {
        await pending;
      } finally {
        clearInterval(beat);
      }
      if (!this.assigned.has(partition)) throw new Error(`partition ${partition} is no longer assigned`);
    }
  }

  private async onBatch({
    batch,
    resolveOffset,
    heartbeat,
    isRunning,
    isStale,
  }: EachBatchPayload): Promise<void> {
    if (!isRunning() || isStale() || this.restarting) return;
    const input: Input = batch.topic === this.opts.task.topics.raw ? 'events' : 'exposures';
    let task: PartitionTask;
    try {
      task = await this.taskFor(batch.partition, heartbeat);
      await task.onBatch(input, batch.messages, Number(batch.highWatermark));
    } catch (err) {
      void this.restart(err);
      return;
    }
    resolveOffset(batch.lastOffset());
    this.backpressure(task);
    await heartbeat();
  }

  private backpressure(task: PartitionTask): void {
    const held = task.processor.held;
    for (const input of INPUTS) {
      const key = `${input}:${task.partition}`;
      const tp = [{ topic: this.topicOf(input), partitions: [task.partition] }];
      if (held[input] > this.opts.maxHeld && !this.paused.has(key)) {
        this.paused.add(key);
        this.consumer?.pause(tp);
      } else if (held[input] <= this.opts.maxHeld / 2 && this.paused.has(key)) {
        this.paused.delete(key);
        this.consumer?.resume(tp);
      }
    }
  }

  private resumeAll(): void {
    for (const key of this.paused) {
      const [input, p] = key.split(':') as [Input, string];
      this.consumer?.resume([{ topic: this.topicOf(input), partitions: [Number(p)] }]);
    }
    this.paused.clear();
  }

  /**
   * Idleness: an input is idle for a task when nothing of it is held, nothing arrived for
   * idleMs and the task has read up to the partition's end offset. Only then may the other
   * input proceed alone (e.g. events with no exposure traffic at all).
   */
  private async tick(): Promise<void> {
    if (this.ticking || this.restarting || this.stopping) return;
    this.ticking = true;
    try {
      const ends = new Map<string, Map<number, number>>();
      const endOf = async (topic: string, partition: number) => {
        let byPartition = ends.get(topic);
        if (!byPartition) {
          const offsets = await this.opts.admin.fetchTopicOffsets(topic);
          byPartition = new Map(offsets.map((o) => [o.partition, Number(o.high)]));
          ends.set(topic, byPartition);
        }
        return byPartition.get(partition) ?? 0;
      };
      const now = Date.now();
      for (const task of [...this.tasks.values()]) {
        if (task.failed) continue;
        const held = task.processor.held;
        const idle = { events: false, exposures: false };
        for (const input of INPUTS) {
          const other = input === 'events' ? 'exposures' : 'events';
          if (held[input] > 0 || held[other] === 0) continue;
          if (now - task.lastRecordAt[input] < this.opts.idleMs) continue;
          idle[input] = task.processor.queued[input] >= (await endOf(this.topicOf(input), task.partition));
        }
        if (idle.events || idle.exposures) {
          await task.tick(idle).catch((err: unknown) => this.restart(err));
          this.backpressure(task);
        }
      }
    } catch (err) {
      this.log.warn({ err }, 'idle check failed');
    } finally {
      this.ticking = false;
    }
  }
}
