// The consumer side: group membership with co-partitioned assignment, per-partition tasks
// (fence, restore, process), idleness ticks, backpressure and restart after a failed
// transaction.

import type { Admin, Consumer, EachBatchPayload, IMemberAssignment } from 'kafkajs';
import type { Logger } from '../common/logger';
import { coPartitionedAssigner } from './co-partitioned-assignor';
import type { ChangelogRecord } from './processor';
import { readToEnd } from './read-to-end';
import { PartitionTask, fencedProducer, type Input, type TaskDeps } from './task';

export interface RunnerOptions {
  task: TaskDeps;
  admin: Admin;
  idleMs: number;
  /** Let a wholly idle partition's stream time follow the wall clock (quiet windows close). */
  idleAdvance: boolean;
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
   * Idleness: an input is quiet for a task when nothing of it is held, nothing arrived for
   * idleMs and the task has read up to the partition's end offset. Only then may the other
   * input proceed alone (e.g. events with no exposure traffic at all). When both inputs are
   * quiet, the partition is idle: its stream time may follow the wall clock, so the windows of
   * a quiet experiment close within window + grace + idleMs.
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
        const quiet = { events: false, exposures: false };
        for (const input of INPUTS) {
          if (held[input] > 0 || now - task.lastRecordAt[input] < this.opts.idleMs) continue;
          quiet[input] = task.processor.queued[input] >= (await endOf(this.topicOf(input), task.partition));
        }
        const idle = {
          events: quiet.events && held.exposures > 0,
          exposures: quiet.exposures && held.events > 0,
        };
        if (idle.events || idle.exposures) {
          await task.tick(idle).catch((err: unknown) => this.restart(err));
          this.backpressure(task);
        } else if (this.opts.idleAdvance && quiet.events && quiet.exposures) {
          await task.advanceIdle(now).catch((err: unknown) => this.restart(err));
        }
      }
    } catch (err) {
      this.log.warn({ err }, 'idle check failed');
    } finally {
      this.ticking = false;
    }
  }
}
