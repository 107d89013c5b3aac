// Which running experiments this instance refreshes on its schedule, so that several instances
// share the work and each experiment has one snapshot series. The instances form a Kafka
// consumer group on the results topic: the group's assignment gives each some of its
// partitions, and an experiment belongs to whoever holds the partition its snapshots are keyed
// to (the producer's default partitioner, murmur2 of the key). When an instance stops or dies,
// its partitions, and with them its experiments, move to the others within the session timeout.
// The group is used only as a lease: the records it receives are skipped.
//
// During a rebalance an instance owns nothing. A frozen instance that wakes after losing its
// partitions may finish a refresh already under way: that adds one snapshot (with its own id)
// and changes nothing else, because snapshots are append-only and the report shows the latest.
import { Partitioners, type Consumer, type Kafka } from 'kafkajs';
import type { Logger } from '../common/logger';

const partitioner = Partitioners.DefaultPartitioner();

/** The partition of `count` that records keyed `key` go to (the producer's default partitioner). */
export function partitionOf(key: string, count: number): number {
  return partitioner({
    topic: '',
    partitionMetadata: Array.from({ length: count }, (_, partitionId) => ({
      partitionErrorCode: 0,
      partitionId,
      leader: 0,
      replicas: [0],
      isr: [0],
    })),
    message: { key, value: null },
  });
}

export interface OwnershipOptions {
  kafka: Kafka;
  groupId: string;
  topic: string;
  partitions: number;
  sessionTimeoutMs: number;
  logger: Logger;
}

export class ExperimentOwnership {
  /** Partitions held now; null while not a member (starting, rebalancing, crashed, stopped). */
  private held: ReadonlySet<number> | null = null;
  private readonly consumer: Consumer;

  constructor(private readonly o: OwnershipOptions) {
    this.consumer = o.kafka.consumer({
      groupId: o.groupId,
      sessionTimeout: o.sessionTimeoutMs,
      heartbeatInterval: Math.max(100, Math.floor(o.sessionTimeoutMs / 10)),
    });
    const { events } = this.consumer;
    this.consumer.on(events.GROUP_JOIN, ({ payload }) => {
      this.held = new Set(payload.memberAssignment[o.topic] ?? []);
      o.logger.info({ partitions: [...this.held].sort((a, b) => a - b) }, 'results partitions assigned');
    });
    this.consumer.on(events.REBALANCING, () => (this.held = null));
    this.consumer.on(events.CRASH, () => (this.held = null));
    this.consumer.on(events.STOP, () => (this.held = null));
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.o.topic, fromBeginning: false });
    await this.consumer.run({ autoCommit: true, eachBatch: async () => undefined });
  }

  /** Whether this instance refreshes `experimentKey` on its schedule now. */
  owns(experimentKey: string): boolean {
    return this.held !== null && this.held.has(partitionOf(experimentKey, this.o.partitions));
  }

  /** A member of the group with its assignment (readiness). */
  get member(): boolean {
    return this.held !== null;
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}
