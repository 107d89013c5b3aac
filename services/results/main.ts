// The results service process: configuration, logging, metrics, BigQuery, Kafka (topic,
// serde, producer), the registry client, the group that shares experiments among instances, the
// refresher and its schedule, the HTTP server and graceful shutdown, wired in that order.
import { createBigQuery } from '../common/bigquery';
import { ConfigError } from '../common/config';
import { createKafka } from '../common/kafka';
import { Lifecycle } from '../common/lifecycle';
import { createLogger } from '../common/logger';
import { createMetricsRegistry } from '../common/metrics';
import { AvroSerde } from '../common/serde';
import { ensureTopics } from '../common/topics';
import { analysisSettings, loadResultsConfig, resultsTopicSpec, type ResultsConfig } from './config';
import { bigQuerySource, registrySource } from './experiment-source';
import { readExperimentFacts } from './facts';
import { readResultsHistory } from './history';
import { buildHttp } from './http';
import { resultsMetrics } from './metrics';
import { ExperimentOwnership } from './ownership';
import { ResultsPublisher } from './publisher';
import { Refresher } from './refresher';
import { RegistryClient } from './registry-client';

/** How long a BigQuery readiness probe result is reused (probes cost a job each). */
const PROBE_CACHE_MS = 10_000;

async function main(): Promise<void> {
  let config: ResultsConfig;
  try {
    config = loadResultsConfig();
  } catch (err) {
    createLogger('results').fatal((err as Error).message);
    process.exit(err instanceof ConfigError ? 1 : 2);
  }
  const logger = createLogger('results', config.LOG_LEVEL);
  const registry = createMetricsRegistry('results');
  const metrics = resultsMetrics(registry);
  const lifecycle = new Lifecycle(logger, config.RESULTS_SHUTDOWN_TIMEOUT_MS);
  lifecycle.handleSignals();

  const bq = createBigQuery({
    projectId: config.BIGQUERY_PROJECT,
    location: config.BIGQUERY_LOCATION,
    apiEndpoint: config.BIGQUERY_API_ENDPOINT,
  });
  const dataset = config.BIGQUERY_DATASET;

  const spec = resultsTopicSpec(config);
  const kafka = createKafka({ clientId: 'xp-results', brokers: config.KAFKA_BROKERS, logger });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, [spec]);
  } finally {
    await admin.disconnect();
  }
  const serde = await AvroSerde.create(config.SCHEMA_REGISTRY_URL, [spec]);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  let kafkaUp = false;
  producer.on(producer.events.CONNECT, () => (kafkaUp = true));
  producer.on(producer.events.DISCONNECT, () => (kafkaUp = false));
  await producer.connect();
  const publisher = new ResultsPublisher(producer, serde, spec.name);

  const client = config.RESULTS_REGISTRY_TOKEN
    ? new RegistryClient(
        config.RESULTS_REGISTRY_URL,
        config.RESULTS_REGISTRY_TOKEN,
        config.RESULTS_HTTP_TIMEOUT_MS,
      )
    : undefined;
  const source =
    config.RESULTS_EXPERIMENTS_FROM === 'registry' && client
      ? registrySource(client)
      : bigQuerySource(bq, dataset, config.RESULTS_MAX_EXPERIMENTS);

  const ownership = new ExperimentOwnership({
    kafka,
    groupId: config.RESULTS_GROUP_ID,
    topic: spec.name,
    partitions: spec.partitions,
    sessionTimeoutMs: config.RESULTS_SESSION_TIMEOUT_MS,
    logger,
  });
  await ownership.start();

  const refresher = new Refresher({
    readFacts: (e, options) => readExperimentFacts(bq, dataset, e.key, e.phase, options),
    publish: (records) => publisher.publish(records),
    source,
    owns: (key) => ownership.owns(key),
    registry: client,
    settings: {
      analysis: analysisSettings(config),
      multipleExposureThreshold: config.RESULTS_MULTIPLE_EXPOSURE_THRESHOLD,
      underpoweredBelow: 0.8,
    },
    cupedLookbackHours: config.RESULTS_CUPED_LOOKBACK_HOURS,
    concurrency: config.RESULTS_CONCURRENCY,
    timeoutMs: config.RESULTS_REFRESH_TIMEOUT_MS,
    maxExperiments: config.RESULTS_MAX_EXPERIMENTS,
    logger,
    metrics,
  });

  let probe: { at: number; ok: boolean } | undefined;
  const bigQueryReady = async () => {
    if (!probe || Date.now() - probe.at > PROBE_CACHE_MS) {
      const [exists] = await bq.dataset(dataset).exists();
      probe = { at: Date.now(), ok: exists };
    }
    return probe.ok;
  };

  const http = buildHttp({
    logger,
    metrics: registry,
    refresher,
    // A refresh on demand reads the registry for the current phase when it can.
    describe: async (key) => (client ? client.experiment(key) : { key }),
    history: (key, q) => readResultsHistory(bq, dataset, key, q),
    readiness: [
      { name: 'kafka-producer', check: () => kafkaUp },
      // Out of the group (starting, rebalancing, cut off): it refreshes nothing on its schedule.
      { name: 'results-group', check: () => ownership.member },
      { name: 'bigquery-dataset', check: bigQueryReady },
      // Unknown before the first round; false when the last listing failed.
      { name: 'experiment-source', check: () => refresher.lastListingOk !== false },
    ],
  });
  await http.listen({ host: config.RESULTS_HOST, port: config.RESULTS_PORT });

  lifecycle
    .onShutdown('stop accepting refresh requests', () => http.close())
    .onShutdown('stop the schedule, finish refreshes in flight', () => refresher.stop())
    .onShutdown('leave the group (the others take its experiments at once)', () => ownership.stop())
    .onShutdown('disconnect the producer', () => producer.disconnect());
  refresher.start(config.RESULTS_REFRESH_INTERVAL_MS);
  logger.info(
    {
      url: `http://${config.RESULTS_HOST}:${config.RESULTS_PORT}`,
      topic: spec.name,
      dataset,
      source: config.RESULTS_EXPERIMENTS_FROM,
      intervalMs: config.RESULTS_REFRESH_INTERVAL_MS,
    },
    'results service started',
  );
}

main().catch((err: unknown) => {
  createLogger('results').fatal({ err }, 'results service failed to start');
  process.exit(1);
});
