import { z } from 'zod';
import { commonEnv, env, loadConfig } from '../common/config';
import { TOPICS, renamedSpec, type TopicName, type TopicSpec } from '../common/topics';
import type { TableName } from './tables';

/** Every setting of the sink, read from the environment (documented in README.md). */
export const sinkEnv = z.object({
  ...commonEnv,
  SINK_HOST: env.host(),
  SINK_PORT: env.port(7073),
  SINK_GROUP_ID: z.string().min(1).default('xp-sink'),
  SINK_CLIENT_ID: z.string().min(1).default('xp-sink'),
  SINK_SESSION_TIMEOUT_MS: env.int(30_000, 6000),
  SINK_HEARTBEAT_INTERVAL_MS: env.int(3000, 100),
  BIGQUERY_PROJECT: z.string().min(1).default('xp-local'),
  BIGQUERY_DATASET: z
    .string()
    .regex(/^[A-Za-z0-9_]{1,1024}$/, 'letters, digits and underscores')
    .default('xp'),
  BIGQUERY_LOCATION: z.string().min(1).default('US'),
  /** Unset: Google's API with application default credentials. */
  BIGQUERY_API_ENDPOINT: z.url().optional(),
  /** host:port of an emulator's Storage Write API (gRPC, plaintext); unset: Google's. */
  BIGQUERY_STORAGE_ENDPOINT: z
    .string()
    .regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'host:port')
    .optional(),
  /** The emulator's gRPC port, used when only BIGQUERY_API_ENDPOINT is set. */
  BIGQUERY_GRPC_PORT: env.port(9060),
  SINK_EVENTS_TOPIC: z.string().min(1).default(TOPICS.cleanEvents),
  SINK_EXPOSURES_TOPIC: z.string().min(1).default(TOPICS.cleanExposures),
  SINK_ENRICHED_TOPIC: z.string().min(1).default(TOPICS.enrichedEvents),
  SINK_AGGREGATES_TOPIC: z.string().min(1).default(TOPICS.aggregates),
  SINK_FAILED_TOPIC: z.string().min(1).default(TOPICS.failedEvents),
  SINK_REGISTRY_TOPIC: z.string().min(1).default(TOPICS.registryChanges),
  SINK_RESULTS_TOPIC: z.string().min(1).default(TOPICS.results),
  SINK_ENSURE_TOPICS: env.bool(true),
  SINK_BATCH_MAX_ROWS: env.int(5000, 1),
  SINK_BATCH_MAX_BYTES: env.int(8 * 1024 * 1024, 1024),
  SINK_BATCH_MAX_DELAY_MS: env.int(1000, 0),
  // One append request: BigQuery refuses requests of 10 MB or more.
  SINK_APPEND_MAX_ROWS: env.int(10_000, 1),
  SINK_APPEND_MAX_BYTES: env.int(8 * 1024 * 1024, 1024),
  SINK_APPEND_TIMEOUT_MS: env.int(30_000, 100),
  /** A stream idle this long is finalized and replaced before the next append (BigQuery expires idle streams after ~3 days). */
  SINK_STREAM_ROTATE_IDLE_MS: env.int(24 * 3600 * 1000, 1000),
  /** Test-only crash point, `<point>:<n>` (services/sink/failpoint.ts). */
  SINK_FAILPOINT: z
    .string()
    .regex(/^(before-append|after-send|after-ack|recovery):\d+$/)
    .optional(),
  SINK_RETRY_INITIAL_MS: env.int(200, 1),
  SINK_RETRY_MAX_MS: env.int(30_000, 1),
  SINK_INSTALL_VIEWS: env.bool(true),
  SINK_SHUTDOWN_TIMEOUT_MS: env.int(30_000, 1000),
});

export type SinkEnv = z.infer<typeof sinkEnv>;

/** A consumed topic and the table its records go to. */
export interface SinkTopic {
  spec: TopicSpec;
  table: TableName;
}

export interface SinkConfig {
  env: SinkEnv;
  topics: SinkTopic[];
}

/** The sink's configuration; topics keep the declared specs with the configured names. */
export function sinkConfig(source: NodeJS.ProcessEnv = process.env): SinkConfig {
  const e = loadConfig(sinkEnv, source);
  const topic = (declared: TopicName, name: string, table: TableName): SinkTopic => ({
    spec: renamedSpec(declared, e.XP_TOPIC_PARTITIONS, name),
    table,
  });
  return {
    env: e,
    topics: [
      // The enricher's deduplicated topics, not the raw ones: one row per messageId. Late
      // events are not loaded from xp.events.late.v1: the enriched topic already carries them
      // (late = true), and loading both would store them twice.
      topic(TOPICS.cleanEvents, e.SINK_EVENTS_TOPIC, 'events'),
      topic(TOPICS.cleanExposures, e.SINK_EXPOSURES_TOPIC, 'exposures'),
      topic(TOPICS.enrichedEvents, e.SINK_ENRICHED_TOPIC, 'experiment_events'),
      topic(TOPICS.aggregates, e.SINK_AGGREGATES_TOPIC, 'variant_window_metrics'),
      topic(TOPICS.failedEvents, e.SINK_FAILED_TOPIC, 'failed_events'),
      topic(TOPICS.registryChanges, e.SINK_REGISTRY_TOPIC, 'experiments'),
      topic(TOPICS.results, e.SINK_RESULTS_TOPIC, 'experiment_results'),
    ],
  };
}
