import { z } from 'zod';
import { commonEnv, env, loadConfig } from '../common/config';
import { TOPICS, renamedSpec, type TopicName, type TopicSpec } from '../common/topics';

/** Every setting of the enricher, read from the environment (documented in README.md). */
export const enricherEnv = z.object({
  ...commonEnv,
  ENRICHER_HOST: env.host(),
  ENRICHER_PORT: env.port(7072),
  /** Consumer group; also the prefix of the per-partition transactional ids. */
  ENRICHER_GROUP_ID: z.string().min(1).default('xp-enricher'),
  ENRICHER_RAW_TOPIC: z.string().min(1).default(TOPICS.rawEvents),
  ENRICHER_EXPOSURES_TOPIC: z.string().min(1).default(TOPICS.exposures),
  ENRICHER_REGISTRY_TOPIC: z.string().min(1).default(TOPICS.registryChanges),
  ENRICHER_CLEAN_EVENTS_TOPIC: z.string().min(1).default(TOPICS.cleanEvents),
  ENRICHER_CLEAN_EXPOSURES_TOPIC: z.string().min(1).default(TOPICS.cleanExposures),
  ENRICHER_ENRICHED_TOPIC: z.string().min(1).default(TOPICS.enrichedEvents),
  ENRICHER_LATE_TOPIC: z.string().min(1).default(TOPICS.lateEvents),
  ENRICHER_AGGREGATES_TOPIC: z.string().min(1).default(TOPICS.aggregates),
  ENRICHER_FAILED_TOPIC: z.string().min(1).default(TOPICS.failedEvents),
  ENRICHER_CHANGELOG_TOPIC: z.string().min(1).default('xp.enricher.state.v1'),
  ENRICHER_DECISIONS_TOPIC: z.string().min(1).default('xp.enricher.decisions.v1'),
  /** How long a messageId is remembered after its first copy arrived (Segment: 24 h). */
  ENRICHER_DEDUPE_HORIZON_MS: env.int(24 * 3_600_000, 0),
  /** Whether an idle partition's stream time follows the wall clock, so quiet windows close. */
  ENRICHER_IDLE_ADVANCE: env.bool(true),
  ENRICHER_WINDOW_MS: env.int(60_000, 1),
  ENRICHER_GRACE_MS: env.int(30_000, 0),
  ENRICHER_REORDER_MS: env.int(5_000, 0),
  ENRICHER_IDLE_MS: env.int(5_000, 10),
  /** Records held per input partition before that input is paused (backpressure). */
  ENRICHER_MAX_HELD: env.int(50_000, 100),
  ENRICHER_PARTITIONS_CONCURRENTLY: env.int(4, 1),
  ENRICHER_MAX_BYTES_PER_PARTITION: env.int(1_048_576, 1024),
  ENRICHER_TRANSACTION_TIMEOUT_MS: env.int(60_000, 1000),
  /** Input records per transaction at most; outputs of one transaction must fit the broker's limits. */
  ENRICHER_MAX_RECORDS_PER_TRANSACTION: env.int(2_500, 1),
  ENRICHER_SESSION_TIMEOUT_MS: env.int(30_000, 6000),
});

export type EnricherConfig = z.infer<typeof enricherEnv>;

export function loadEnricherConfig(source: NodeJS.ProcessEnv = process.env): EnricherConfig {
  const c = loadConfig(enricherEnv, source);
  if (c.ENRICHER_REORDER_MS >= c.ENRICHER_GRACE_MS && c.ENRICHER_GRACE_MS > 0) {
    // Held events would otherwise often arrive after their window closed.
    throw new Error('ENRICHER_REORDER_MS must be below ENRICHER_GRACE_MS');
  }
  return c;
}

export interface EnricherTopics {
  raw: string;
  exposures: string;
  registry: string;
  cleanEvents: string;
  cleanExposures: string;
  enriched: string;
  late: string;
  aggregates: string;
  failed: string;
  changelog: string;
  decisions: string;
}

export function topicNames(c: EnricherConfig): EnricherTopics {
  return {
    raw: c.ENRICHER_RAW_TOPIC,
    exposures: c.ENRICHER_EXPOSURES_TOPIC,
    registry: c.ENRICHER_REGISTRY_TOPIC,
    cleanEvents: c.ENRICHER_CLEAN_EVENTS_TOPIC,
    cleanExposures: c.ENRICHER_CLEAN_EXPOSURES_TOPIC,
    enriched: c.ENRICHER_ENRICHED_TOPIC,
    late: c.ENRICHER_LATE_TOPIC,
    aggregates: c.ENRICHER_AGGREGATES_TOPIC,
    failed: c.ENRICHER_FAILED_TOPIC,
    changelog: c.ENRICHER_CHANGELOG_TOPIC,
    decisions: c.ENRICHER_DECISIONS_TOPIC,
  };
}

/**
 * The Avro topics the enricher reads and writes (declared in services/common/topics.ts, names
 * overridable) and its internal topics, JSON like a Kafka Streams changelog, so no Avro schema:
 * the changelog (state, compacted, co-partitioned with the inputs) and the decisions log
 * (idle-watermark decisions, kept 30 days so a replay can apply them again).
 */
export function enricherTopicSpecs(
  c: EnricherConfig,
  names = topicNames(c),
): { avro: TopicSpec[]; changelog: Omit<TopicSpec, 'schema'>; decisions: Omit<TopicSpec, 'schema'> } {
  const spec = (declared: TopicName, name: string) => renamedSpec(declared, c.XP_TOPIC_PARTITIONS, name);
  return {
    avro: [
      spec(TOPICS.rawEvents, names.raw),
      spec(TOPICS.exposures, names.exposures),
      spec(TOPICS.registryChanges, names.registry),
      spec(TOPICS.cleanEvents, names.cleanEvents),
      spec(TOPICS.cleanExposures, names.cleanExposures),
      spec(TOPICS.enrichedEvents, names.enriched),
      spec(TOPICS.lateEvents, names.late),
      spec(TOPICS.aggregates, names.aggregates),
      spec(TOPICS.failedEvents, names.failed),
    ],
    changelog: {
      name: names.changelog,
      partitions: c.XP_TOPIC_PARTITIONS,
      config: { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': '60000', 'segment.ms': '3600000' },
    },
    decisions: {
      name: names.decisions,
      partitions: c.XP_TOPIC_PARTITIONS,
      config: { 'cleanup.policy': 'delete', 'retention.ms': String(30 * 24 * 3_600_000) },
    },
  };
}
