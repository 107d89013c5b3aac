import type { Admin, ITopicConfig } from 'kafkajs';
import { ConfigResourceTypes } from 'kafkajs';
import type { SchemaName } from './schemas';

/** Topic names, versioned: a breaking change gets a new topic, not a rewrite of the old one. */
export const TOPICS = {
  rawEvents: 'xp.events.raw.v1',
  exposures: 'xp.exposures.v1',
  /** Deduplicated by the enricher: one record per messageId within the dedupe horizon. */
  cleanEvents: 'xp.events.clean.v1',
  cleanExposures: 'xp.exposures.clean.v1',
  failedEvents: 'xp.events.failed.v1',
  enrichedEvents: 'xp.events.enriched.v1',
  lateEvents: 'xp.events.late.v1',
  aggregates: 'xp.aggregates.v1',
  registryChanges: 'xp.registry.changes.v1',
  /** Results snapshots from the results service, keyed by experiment; loaded into experiment_results. */
  results: 'xp.results.v1',
} as const;

export type TopicName = (typeof TOPICS)[keyof typeof TOPICS];

export interface TopicSpec {
  name: string;
  /** Avro schema of the record values (subject `<name>-value`). */
  schema: SchemaName;
  /** Partition count; topics joined by key must have equal counts (co-partitioning). */
  partitions: number;
  config: Record<string, string>;
}

const DAY_MS = 24 * 3600 * 1000;
const retention = (days: number) => ({ 'cleanup.policy': 'delete', 'retention.ms': String(days * DAY_MS) });

/**
 * The one declared list of topics. `partitions` is the count for the keyed event topics;
 * raw events and exposures must share it so a unit's events and exposures meet in one
 * partition of the enricher.
 */
export function topicSpecs(partitions: number): TopicSpec[] {
  return [
    { name: TOPICS.rawEvents, schema: 'tracking-event', partitions, config: retention(7) },
    { name: TOPICS.exposures, schema: 'exposure', partitions, config: retention(7) },
    { name: TOPICS.cleanEvents, schema: 'tracking-event', partitions, config: retention(7) },
    { name: TOPICS.cleanExposures, schema: 'exposure', partitions, config: retention(7) },
    { name: TOPICS.enrichedEvents, schema: 'enriched-event', partitions, config: retention(7) },
    { name: TOPICS.lateEvents, schema: 'enriched-event', partitions, config: retention(7) },
    { name: TOPICS.aggregates, schema: 'window-aggregate', partitions, config: retention(7) },
    { name: TOPICS.failedEvents, schema: 'failed-event', partitions: 1, config: retention(30) },
    { name: TOPICS.results, schema: 'experiment-result', partitions, config: retention(30) },
    {
      name: TOPICS.registryChanges,
      schema: 'registry-change',
      // One partition: consumers read it as a table and need the changes in commit order.
      partitions: 1,
      config: { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': String(60_000) },
    },
  ];
}

/**
 * The declared spec of `declared` under the name a service was configured with (services
 * take topic names from configuration, so tests and benchmarks can use topics of their own).
 */
export function renamedSpec(declared: TopicName, partitions: number, name: string): TopicSpec {
  const spec = topicSpecs(partitions).find((s) => s.name === declared);
  if (!spec) throw new Error(`${declared} is not a declared topic`);
  return { ...spec, name };
}

/** Thrown when an existing topic cannot be brought in line with its declaration. */
export class TopicMismatchError extends Error {}

/**
 * Creates missing topics and sets the declared configs on existing ones; idempotent, so
 * every service may call it at start-up. A partition count that differs from the
 * declaration is an error: changing it would move keys between partitions.
 */
export async function ensureTopics(admin: Admin, specs: TopicSpec[], replicationFactor = 1): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing: ITopicConfig[] = specs
    .filter((s) => !existing.has(s.name))
    .map((s) => ({
      topic: s.name,
      numPartitions: s.partitions,
      replicationFactor,
      configEntries: Object.entries(s.config).map(([name, value]) => ({ name, value })),
    }));
  if (missing.length > 0) {
    // Another instance may create the same topics concurrently; createTopics then answers
    // false or TOPIC_ALREADY_EXISTS, both fine.
    try {
      await admin.createTopics({ topics: missing, waitForLeaders: true });
    } catch (err) {
      if ((err as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS') throw err;
    }
  }

  const present = specs.filter((s) => existing.has(s.name));
  if (present.length === 0) return;
  const meta = await admin.fetchTopicMetadata({ topics: present.map((s) => s.name) });
  for (const topic of meta.topics) {
    const spec = present.find((s) => s.name === topic.name)!;
    if (topic.partitions.length !== spec.partitions) {
      throw new TopicMismatchError(
        `topic ${topic.name} has ${topic.partitions.length} partitions, declared ${spec.partitions}; ` +
          'repartitioning would break co-partitioning, so create a new topic version instead',
      );
    }
  }
  await admin.alterConfigs({
    validateOnly: false,
    resources: present.map((s) => ({
      type: ConfigResourceTypes.TOPIC,
      name: s.name,
      configEntries: Object.entries(s.config).map(([name, value]) => ({ name, value })),
    })),
  });
}
