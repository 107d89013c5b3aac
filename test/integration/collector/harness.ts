// The collector in-process against the real stack: its own topics (unique per run, so
// tests neither see nor disturb the shared xp.* topics), the real schema registry and an
// idempotent producer, listening on an ephemeral port.
import type { FastifyInstance } from 'fastify';
import type { Admin, Kafka } from 'kafkajs';
import pino from 'pino';
import { Registry } from 'prom-client';
import { createKafka } from '../../../services/common/kafka';
import { AvroSerde } from '../../../services/common/serde';
import { ensureTopics, renamedSpec, TOPICS, type TopicName } from '../../../services/common/topics';
import { buildApp, type AppSettings } from '../../../services/collector/app';
import { collectorMetrics } from '../../../services/collector/metrics';
import { KafkaPublisher, brokerProbe, producerFactory } from '../../../services/collector/publisher';
import { DEFAULT_LIMITS } from '../../../services/collector/rules';
import { WriteKeys } from '../../../services/collector/write-keys';
import { stack, uniqueName } from '../setup/stack';

export const WRITE_KEY = 'it-collector-key';
export const basicAuth = (key = WRITE_KEY) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;

export const SETTINGS: AppSettings = {
  limits: DEFAULT_LIMITS,
  maxBodyBytes: 1024 * 1024,
  maxBatchEvents: 500,
  maxFailedPayloadBytes: 256 * 1024,
  anonymizeIp: true,
  trustProxy: false,
  requestTimeoutMs: 10_000,
  rateLimitMax: 0,
  rateLimitWindowMs: 1000,
  retryAfterSeconds: 5,
};

export interface HarnessOptions {
  settings?: Partial<AppSettings>;
  produceTimeoutMs?: number;
  maxInFlightRecords?: number;
  partitions?: number;
  /** Origins the write key allows (CORS); browser tests use their page's origin or '*'. */
  origins?: string[];
}

export interface Harness {
  url: string;
  app: FastifyInstance;
  publisher: KafkaPublisher;
  kafka: Kafka;
  admin: Admin;
  serde: AvroSerde;
  topics: { rawEvents: string; exposures: string; failedEvents: string };
  close(): Promise<void>;
}

const silent = pino({ level: 'silent' });

export async function startCollector(opts: HarnessOptions = {}): Promise<Harness> {
  const kafka = createKafka({ clientId: 'it-collector', brokers: stack.kafkaBrokers, logger: silent });
  const admin = kafka.admin();
  await admin.connect();
  const topics = {
    rawEvents: uniqueName('it.collector.raw'),
    exposures: uniqueName('it.collector.exposures'),
    failedEvents: uniqueName('it.collector.failed'),
  };
  const rename = (from: TopicName, name: string) => renamedSpec(from, opts.partitions ?? 3, name);
  const specs = [
    rename(TOPICS.rawEvents, topics.rawEvents),
    rename(TOPICS.exposures, topics.exposures),
    rename(TOPICS.failedEvents, topics.failedEvents),
  ];
  await ensureTopics(admin, specs);
  const serde = await AvroSerde.create(stack.schemaRegistryUrl, specs);
  const registry = new Registry();
  const metrics = collectorMetrics(registry, () => publisher.inFlight);
  const publisher: KafkaPublisher = new KafkaPublisher({
    createProducer: producerFactory(kafka),
    logger: silent,
    metrics: metrics.publisher,
    produceTimeoutMs: opts.produceTimeoutMs ?? 5_000,
    maxInFlightRecords: opts.maxInFlightRecords ?? 20_000,
    maxBatchBytes: 1_000_000,
    maxBatchRecords: 10_000,
  });
  await publisher.start();
  const kafkaPublisher = publisher;
  const app = await buildApp({
    settings: { ...SETTINGS, ...opts.settings },
    logger: silent,
    registry,
    metrics,
    serde,
    publisher,
    writeKeys: new WriteKeys([
      { key: WRITE_KEY, sourceId: 'it-source', origins: opts.origins ?? ['https://shop.example'] },
    ]),
    topics,
    readiness: [
      { name: 'kafka-producer', check: () => kafkaPublisher.ready() },
      { name: 'kafka-broker', check: brokerProbe(admin, topics.rawEvents, 2_000) },
    ],
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    app,
    publisher: kafkaPublisher,
    kafka,
    admin,
    serde,
    topics,
    async close() {
      await app.close();
      await kafkaPublisher.close();
      await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
      await admin.disconnect();
    },
  };
}

export interface Consumed<T> {
  key: string;
  partition: number;
  offset: string;
  value: T;
}

/**
 * Every record of `topic` up to its current end, decoded: the high watermarks are read
 * first and the consumer stops when each partition reached its own.
 */
export async function readAll<T>(h: Harness, topic: string, timeoutMs = 30_000): Promise<Consumed<T>[]> {
  const ends = await h.admin.fetchTopicOffsets(topic);
  const remaining = new Map(ends.filter((p) => p.high !== p.low).map((p) => [p.partition, BigInt(p.high)]));
  const out: Consumed<T>[] = [];
  if (remaining.size === 0) return out;
  const consumer = h.kafka.consumer({
    groupId: uniqueName('it-collector-reader'),
    maxBytes: 10 * 1024 * 1024,
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `read ${out.length} records of ${topic}; partitions not reached: ${[...remaining.keys()]}`,
            ),
          ),
        timeoutMs,
      );
      consumer
        .run({
          eachBatch: async ({ batch }) => {
            for (const message of batch.messages) {
              out.push({
                key: message.key?.toString() ?? '',
                partition: batch.partition,
                offset: message.offset,
                value: await h.serde.decode<T>(topic, message.value),
              });
              const end = remaining.get(batch.partition);
              if (end !== undefined && BigInt(message.offset) + 1n >= end) remaining.delete(batch.partition);
            }
            if (remaining.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return out;
}

/** POSTs JSON (or raw bytes) to the collector with the test write key unless headers say otherwise. */
export async function send(
  h: Harness,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }> {
  const res = await fetch(h.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: basicAuth(), ...headers },
    body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : {} };
}
