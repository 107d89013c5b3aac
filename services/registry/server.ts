// Wiring of the real dependencies: PostgreSQL (migrations, tokens), Kafka (topics, serde,
// producer), the change listener, the outbox relay and the HTTP app. main.ts runs it as a
// process; integration tests run it in-process.

import type { FastifyInstance } from 'fastify';
import type { Producer } from 'kafkajs';
import type { Logger } from '../common/logger';
import { createKafka } from '../common/kafka';
import { createMetricsRegistry } from '../common/metrics';
import { AvroSerde } from '../common/serde';
import { TOPICS, ensureTopics, renamedSpec, type TopicSpec } from '../common/topics';
import { buildApp } from './app';
import { ChangeHub } from './changes/hub';
import { OutboxRelay } from './changes/outbox-relay';
import type { RegistryConfig } from './config';
import { createPool, runMigrations, type Pool } from './core/db';
import { KafkaExposureLogger } from './sdk/exposures';
import { PayloadCache } from './sdk/payload';
import { TokenStore } from './tokens/store';

export interface RunningRegistry {
  app: FastifyInstance;
  pool: Pool;
  relay: OutboxRelay;
  /** The address the HTTP server listens on, e.g. http://127.0.0.1:7070. */
  url: string;
  /** Shutdown steps in order; main.ts registers them with the Lifecycle. */
  steps: { name: string; run: () => Promise<void> }[];
  close(): Promise<void>;
}

/** The declared topics the registry writes, with the configured names. */
export function registryTopics(config: RegistryConfig): TopicSpec[] {
  return [
    renamedSpec(TOPICS.registryChanges, config.XP_TOPIC_PARTITIONS, config.REGISTRY_CHANGES_TOPIC),
    renamedSpec(TOPICS.exposures, config.XP_TOPIC_PARTITIONS, config.REGISTRY_EXPOSURES_TOPIC),
  ];
}

export interface StartOptions {
  /** See AppDeps.docsUi. */
  docsUi?: boolean;
}

export async function startRegistry(
  config: RegistryConfig,
  logger: Logger,
  options: StartOptions = {},
): Promise<RunningRegistry> {
  // What has been opened so far, closed in reverse if start-up fails half way.
  const opened: (() => Promise<unknown>)[] = [];
  try {
    return await start(config, logger, options, opened);
  } catch (err) {
    for (const close of opened.reverse()) await close().catch(() => undefined);
    throw err;
  }
}

async function start(
  config: RegistryConfig,
  logger: Logger,
  options: StartOptions,
  opened: (() => Promise<unknown>)[],
): Promise<RunningRegistry> {
  const pool = createPool(config.DATABASE_URL, config.REGISTRY_DB_POOL_SIZE);
  opened.push(() => pool.end());
  await runMigrations(pool, logger);
  const tokens = new TokenStore(pool, config.REGISTRY_TOKEN_CACHE_MS);
  if (config.REGISTRY_BOOTSTRAP_ADMIN_TOKEN) {
    await tokens.ensureBootstrap(config.REGISTRY_BOOTSTRAP_ADMIN_TOKEN);
    logger.warn('bootstrap admin token enabled (REGISTRY_BOOTSTRAP_ADMIN_TOKEN): for the local stack only');
  }

  const kafka = createKafka({ clientId: 'xp-registry', brokers: config.KAFKA_BROKERS, logger });
  const topics = registryTopics(config);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, topics);
  } finally {
    await admin.disconnect();
  }
  const serde = await AvroSerde.create(config.SCHEMA_REGISTRY_URL, topics);
  // Idempotent with one request in flight: retries can neither duplicate nor reorder a batch.
  const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  let kafkaUp = false;
  producer.on(producer.events.CONNECT, () => (kafkaUp = true));
  producer.on(producer.events.DISCONNECT, () => (kafkaUp = false));
  opened.push(() => producer.disconnect());
  await producer.connect();

  const metrics = createMetricsRegistry('registry');
  const payloads = new PayloadCache(pool);
  const hub = new ChangeHub(config.DATABASE_URL, payloads, logger.child({ component: 'changes' }));
  opened.push(() => hub.stop());
  await hub.start();
  const relay = new OutboxRelay({
    connectionString: config.DATABASE_URL,
    producer,
    serde,
    topic: config.REGISTRY_CHANGES_TOPIC,
    batchSize: config.REGISTRY_OUTBOX_BATCH_SIZE,
    pollMs: config.REGISTRY_OUTBOX_POLL_MS,
    logger: logger.child({ component: 'outbox' }),
    metrics,
  });
  opened.push(() => relay.stop());
  relay.start();
  const exposures = new KafkaExposureLogger(
    producer,
    serde,
    config.REGISTRY_EXPOSURES_TOPIC,
    config.REGISTRY_EXPOSURE_DEDUPE_SIZE,
    metrics,
    logger.child({ component: 'exposures' }),
  );

  const app = await buildApp({
    config,
    pool,
    logger,
    metrics,
    tokens,
    payloads,
    hub,
    exposures,
    docsUi: options.docsUi,
    readiness: [
      { name: 'postgres', check: async () => (await pool.query('SELECT 1')).rowCount === 1 },
      { name: 'kafka', check: () => kafkaUp },
      { name: 'change-listener', check: () => hub.connected },
    ],
  });
  opened.push(() => app.close());
  const address = await app.listen({ host: config.REGISTRY_HOST, port: config.REGISTRY_PORT });

  const steps = [
    { name: 'http', run: () => app.close() },
    { name: 'outbox-relay', run: () => relay.stop() },
    { name: 'change-listener', run: () => hub.stop() },
    { name: 'kafka-producer', run: () => producer.disconnect() },
    { name: 'postgres', run: () => pool.end() },
  ];
  let closing: Promise<void> | undefined;
  return {
    app,
    pool,
    relay,
    url: address,
    steps,
    close: () =>
      (closing ??= (async () => {
        for (const s of steps)
          await s.run().catch((err) => logger.error({ err, step: s.name }, 'close failed'));
      })()),
  };
}
