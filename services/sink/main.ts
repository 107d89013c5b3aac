// The sink: Kafka topics -> BigQuery tables through the Storage Write API, exactly once.
// Wiring only; see runner.ts (consume, per-partition flush and commit) and
// partition-writer.ts (committed streams, offsets, recovery).

import type { BigQuery, Dataset } from '@google-cloud/bigquery';
import type { Registry } from 'prom-client';
import { createBigQuery } from '../common/bigquery';
import { createKafka } from '../common/kafka';
import { Lifecycle } from '../common/lifecycle';
import { createLogger, type Logger } from '../common/logger';
import { createMetricsRegistry } from '../common/metrics';
import { startOpsServer } from '../common/ops-server';
import type { SchemaName } from '../common/schemas';
import { AvroSerde } from '../common/serde';
import { ensureTopics } from '../common/topics';
import { sinkConfig, type SinkConfig } from './config';
import { Failpoints } from './failpoint';
import { sinkMetrics } from './metrics';
import { withRetry } from './retry';
import { Runner } from './runner';
import { createWriterClient } from './write-api';
import { ensureDataset, ensureTables, tableDefs } from './tables';
import { dropRetiredViews, installViews } from './views';

export interface Sink {
  runner: Runner;
  bq: BigQuery;
  dataset: Dataset;
  stop(): Promise<void>;
}

export interface SinkOptions {
  logger: Logger;
  metrics: Registry;
  /** Stand-ins for schemas/ (tests of schema evolution). */
  schemas?: Partial<Record<SchemaName, unknown>>;
  /** Called when the consumer dies for good (default: exit so a supervisor restarts us). */
  onCrash?: (err: Error) => void;
  /** Set once BigQuery is set up, for readiness before the consumer starts. */
  onBigQueryReady?: (dataset: Dataset) => void;
}

/** Sets up BigQuery (dataset, tables, views) and Kafka, then starts consuming. */
export async function startSink(config: SinkConfig, opts: SinkOptions): Promise<Sink> {
  const e = config.env;
  const { logger } = opts;
  const metrics = sinkMetrics(opts.metrics);
  const bq = createBigQuery({
    projectId: e.BIGQUERY_PROJECT,
    location: e.BIGQUERY_LOCATION,
    ...(e.BIGQUERY_API_ENDPOINT ? { apiEndpoint: e.BIGQUERY_API_ENDPOINT } : {}),
  });
  const defs = tableDefs(opts.schemas);

  // BigQuery may be unreachable at start-up: wait for it rather than crash-loop.
  const retry = { initialMs: e.SINK_RETRY_INITIAL_MS, maxMs: e.SINK_RETRY_MAX_MS };
  const dataset = await withRetry(
    retry,
    {
      context: 'BigQuery set-up',
      onRetry: (err, _a, waitMs) =>
        logger.warn({ err: err.message, waitMs }, 'BigQuery set-up failed; retrying'),
    },
    async () => {
      const ds = await ensureDataset(bq, e.BIGQUERY_DATASET, e.BIGQUERY_LOCATION);
      if (e.SINK_INSTALL_VIEWS) await dropRetiredViews(bq, e.BIGQUERY_PROJECT, e.BIGQUERY_DATASET);
      await ensureTables(bq, ds, defs.values(), logger);
      if (e.SINK_INSTALL_VIEWS) {
        const views = await installViews(bq, e.BIGQUERY_PROJECT, e.BIGQUERY_DATASET);
        logger.info({ views }, 'views installed');
      }
      return ds;
    },
  );
  opts.onBigQueryReady?.(dataset);

  const kafka = createKafka({ clientId: e.SINK_CLIENT_ID, brokers: e.KAFKA_BROKERS, logger });
  const specs = [...new Map(config.topics.map((t) => [t.spec.name, t.spec])).values()];
  if (e.SINK_ENSURE_TOPICS) {
    const admin = kafka.admin();
    await admin.connect();
    try {
      await ensureTopics(admin, specs);
    } finally {
      await admin.disconnect();
    }
  }
  const serde = await AvroSerde.create(e.SCHEMA_REGISTRY_URL, specs);

  const client = createWriterClient({ projectId: e.BIGQUERY_PROJECT, endpoint: storageEndpoint(e) });
  const admin = kafka.admin();
  await admin.connect();
  const consumer = kafka.consumer({
    groupId: e.SINK_GROUP_ID,
    sessionTimeout: e.SINK_SESSION_TIMEOUT_MS,
    heartbeatInterval: e.SINK_HEARTBEAT_INTERVAL_MS,
    maxBytesPerPartition: 2 * 1024 * 1024,
    maxWaitTimeInMs: 500,
  });
  const runner = new Runner({
    consumer,
    admin,
    groupId: e.SINK_GROUP_ID,
    serde,
    bq,
    client,
    projectId: e.BIGQUERY_PROJECT,
    datasetId: e.BIGQUERY_DATASET,
    defs,
    topics: config.topics,
    policy: {
      maxRows: e.SINK_BATCH_MAX_ROWS,
      maxBytes: e.SINK_BATCH_MAX_BYTES,
      maxDelayMs: e.SINK_BATCH_MAX_DELAY_MS,
    },
    retry,
    appendMaxRows: e.SINK_APPEND_MAX_ROWS,
    appendMaxBytes: e.SINK_APPEND_MAX_BYTES,
    appendTimeoutMs: e.SINK_APPEND_TIMEOUT_MS,
    rotateIdleMs: e.SINK_STREAM_ROTATE_IDLE_MS,
    failpoints: Failpoints.parse(e.SINK_FAILPOINT),
    logger,
    metrics,
  });
  await runner.start(
    opts.onCrash ??
      ((err) => {
        logger.fatal({ err }, 'consumer crashed; exiting');
        process.exit(1);
      }),
  );
  logger.info({ topics: specs.map((s) => s.name), dataset: e.BIGQUERY_DATASET }, 'sink consuming');
  return {
    runner,
    bq,
    dataset,
    stop: async () => {
      await runner.stop();
      await admin.disconnect();
    },
  };
}

/**
 * The Storage Write API's address: BIGQUERY_STORAGE_ENDPOINT, else, next to an emulator's
 * REST endpoint, the same host on BIGQUERY_GRPC_PORT; unset means Google's.
 */
export function storageEndpoint(e: SinkConfig['env']): string | undefined {
  if (e.BIGQUERY_STORAGE_ENDPOINT) return e.BIGQUERY_STORAGE_ENDPOINT;
  if (!e.BIGQUERY_API_ENDPOINT) return undefined;
  return `${new URL(e.BIGQUERY_API_ENDPOINT).hostname}:${e.BIGQUERY_GRPC_PORT}`;
}

async function main(): Promise<void> {
  const config = sinkConfig();
  const e = config.env;
  const logger = createLogger('sink', e.LOG_LEVEL);
  const registry = createMetricsRegistry('sink');
  const lifecycle = new Lifecycle(logger, e.SINK_SHUTDOWN_TIMEOUT_MS);
  lifecycle.handleSignals();

  const state: { sink?: Sink; dataset?: Dataset } = {};
  // Health answers during set-up; readiness waits for BigQuery and the consumer group.
  const ops = await startOpsServer({
    host: e.SINK_HOST,
    port: e.SINK_PORT,
    logger,
    metrics: registry,
    readiness: [
      { name: 'kafka', check: () => state.sink?.runner.consuming ?? false },
      {
        name: 'bigquery',
        check: async () => {
          if (!state.dataset) return false;
          if (state.sink?.runner.loadFailing) throw new Error(state.sink.runner.loadFailing);
          const [exists] = await state.dataset.exists();
          return exists;
        },
      },
    ],
  });
  lifecycle.onShutdown('stop consuming, flush, commit, disconnect', async () => {
    await state.sink?.stop();
  });
  lifecycle.onShutdown('ops server', async () => {
    await ops.close();
  });
  state.sink = await startSink(config, {
    logger,
    metrics: registry,
    onBigQueryReady: (ds) => (state.dataset = ds),
  });
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
