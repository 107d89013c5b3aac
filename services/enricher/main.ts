// The enricher process: configuration, logging, metrics, Kafka, topics, the serde, the
// registry table, the runner and graceful shutdown, wired in that order.
import { ConfigError } from '../common/config';
import { createKafka } from '../common/kafka';
import { Lifecycle } from '../common/lifecycle';
import { createLogger } from '../common/logger';
import { createMetricsRegistry } from '../common/metrics';
import { startOpsServer } from '../common/ops-server';
import { AvroSerde } from '../common/serde';
import { ensureTopics, type TopicSpec } from '../common/topics';
import { enricherTopicSpecs, loadEnricherConfig, topicNames } from './config';
import { ExperimentTable } from './experiments';
import { enricherMetrics } from './metrics';
import { followRegistry } from './registry-follower';
import { Runner } from './runner';

async function main(): Promise<void> {
  let config;
  try {
    config = loadEnricherConfig();
  } catch (err) {
    createLogger('enricher').fatal((err as Error).message);
    process.exit(err instanceof ConfigError ? 1 : 2);
  }
  const logger = createLogger('enricher', config.LOG_LEVEL);
  const registry = createMetricsRegistry('enricher');
  const metrics = enricherMetrics(registry);
  const lifecycle = new Lifecycle(logger, 30_000);
  lifecycle.handleSignals();

  const topics = topicNames(config);
  const specs = enricherTopicSpecs(config, topics);
  const kafka = createKafka({ clientId: 'enricher', brokers: config.KAFKA_BROKERS, logger });
  const admin = kafka.admin();
  await admin.connect();
  // ensureTopics reads only name, partitions and config; the changelog carries JSON state.
  await ensureTopics(admin, [...specs.avro, specs.changelog as TopicSpec, specs.decisions as TopicSpec]);
  const serde = await AvroSerde.create(config.SCHEMA_REGISTRY_URL, specs.avro);

  // Readiness is asked before the runner exists; it reports not ready until then.
  const current: { runner?: Runner } = {};
  const ops = await startOpsServer({
    host: config.ENRICHER_HOST,
    port: config.ENRICHER_PORT,
    logger,
    metrics: registry,
    readiness: [{ name: 'kafka-consumer', check: () => current.runner?.running === true }],
  });

  const table = new ExperimentTable();
  const registryFollower = await followRegistry({
    kafka,
    admin,
    serde,
    topic: topics.registry,
    failedTopic: topics.failed,
    table,
    groupPrefix: config.ENRICHER_GROUP_ID,
    logger,
    onChange: () => metrics.experiments.set(table.size),
  });
  metrics.experiments.set(table.size);
  logger.info({ experiments: table.size }, 'registry table loaded');

  const runner = new Runner({
    task: {
      kafka,
      groupId: config.ENRICHER_GROUP_ID,
      topics,
      serde,
      experiments: table,
      processor: {
        windows: { sizeMs: config.ENRICHER_WINDOW_MS, graceMs: config.ENRICHER_GRACE_MS },
        reorderMs: config.ENRICHER_REORDER_MS,
        dedupeHorizonMs: config.ENRICHER_DEDUPE_HORIZON_MS,
      },
      transactionTimeoutMs: config.ENRICHER_TRANSACTION_TIMEOUT_MS,
      maxRecordsPerTransaction: config.ENRICHER_MAX_RECORDS_PER_TRANSACTION,
      logger,
      metrics,
    },
    admin,
    idleMs: config.ENRICHER_IDLE_MS,
    idleAdvance: config.ENRICHER_IDLE_ADVANCE,
    maxHeld: config.ENRICHER_MAX_HELD,
    partitionsConsumedConcurrently: config.ENRICHER_PARTITIONS_CONCURRENTLY,
    maxBytesPerPartition: config.ENRICHER_MAX_BYTES_PER_PARTITION,
    sessionTimeoutMs: config.ENRICHER_SESSION_TIMEOUT_MS,
  });
  current.runner = runner;
  lifecycle
    .onShutdown('stop consuming, finish the in-flight transactions, close producers', () => runner.stop())
    .onShutdown('stop following the registry', () => registryFollower.stop())
    .onShutdown('disconnect the admin client', () => admin.disconnect())
    .onShutdown('close the ops server', () => ops.close());
  await runner.start();
  logger.info({ topics, group: config.ENRICHER_GROUP_ID }, 'enricher started');
}

main().catch((err: unknown) => {
  createLogger('enricher').fatal({ err }, 'enricher failed to start');
  process.exit(1);
});
