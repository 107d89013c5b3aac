// The collector process: configuration, logging, metrics, Kafka, the serde, topics, the
// HTTP server and graceful shutdown, wired in that order. All logic lives in the modules.
import { ConfigError } from '../common/config';
import { createKafka } from '../common/kafka';
import { Lifecycle } from '../common/lifecycle';
import { createLogger } from '../common/logger';
import { createMetricsRegistry } from '../common/metrics';
import type { ReadinessCheck } from '../common/ops-server';
import { AvroSerde } from '../common/serde';
import { ensureTopics } from '../common/topics';
import { buildApp } from './app';
import { appSettings, collectorTopicSpecs, loadCollectorConfig } from './config';
import { collectorMetrics } from './metrics';
import { KafkaPublisher, NullPublisher, brokerProbe, producerFactory, type Publisher } from './publisher';
import { WriteKeys } from './write-keys';

async function main(): Promise<void> {
  let config;
  try {
    config = loadCollectorConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    createLogger('collector').fatal(err.message);
    process.exit(1);
  }
  const logger = createLogger('collector', config.LOG_LEVEL);
  const registry = createMetricsRegistry('collector');
  // The in-flight gauge reads the publisher, chosen below.
  let publisher: Publisher = new NullPublisher();
  const metrics = collectorMetrics(registry, () => publisher.inFlight);
  const lifecycle = new Lifecycle(logger);
  const { names, specs } = collectorTopicSpecs(config);

  const readiness: ReadinessCheck[] = [];
  let closeKafka = async () => {};
  if (config.COLLECTOR_PRODUCE) {
    const kafka = createKafka({ clientId: 'collector', brokers: config.KAFKA_BROKERS, logger });
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, specs);
    const kafkaPublisher = new KafkaPublisher({
      createProducer: producerFactory(kafka),
      logger: logger.child({ component: 'publisher' }),
      metrics: metrics.publisher,
      produceTimeoutMs: config.COLLECTOR_PRODUCE_TIMEOUT_MS,
      maxInFlightRecords: config.COLLECTOR_MAX_IN_FLIGHT_RECORDS,
      maxBatchBytes: config.COLLECTOR_PRODUCE_BATCH_BYTES,
      maxBatchRecords: config.COLLECTOR_PRODUCE_BATCH_RECORDS,
    });
    publisher = kafkaPublisher;
    readiness.push(
      { name: 'kafka-producer', check: () => kafkaPublisher.ready() },
      { name: 'kafka-broker', check: brokerProbe(admin, names.rawEvents, 2_000) },
    );
    closeKafka = () => admin.disconnect();
  } else {
    logger.warn('COLLECTOR_PRODUCE=false: events are validated and encoded, then dropped (benchmarks only)');
  }
  const serde = await AvroSerde.create(config.SCHEMA_REGISTRY_URL, specs);
  await publisher.start();

  const app = await buildApp({
    settings: appSettings(config),
    logger,
    registry,
    metrics,
    serde,
    publisher,
    writeKeys: new WriteKeys(config.COLLECTOR_WRITE_KEYS),
    topics: names,
    readiness,
  });
  await app.listen({ host: config.COLLECTOR_HOST, port: config.COLLECTOR_PORT });

  lifecycle
    // Fastify stops accepting, answers 503 to new requests and waits for those in flight,
    // each of which settles within the produce timeout.
    .onShutdown('stop intake and drain requests', () => app.close())
    .onShutdown('flush and disconnect the producer', () => publisher.close())
    .onShutdown('disconnect the admin client', () => closeKafka());
  lifecycle.handleSignals();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
