// Shared by the sink's integration and chaos tests: unique topics and datasets, producing
// Avro records, reading BigQuery, and running the sink as a child process.

import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { BigQuery } from '@google-cloud/bigquery';
import type { Kafka, Producer } from 'kafkajs';
import pino from 'pino';
import { createBigQuery } from '../../../services/common/bigquery';
import { createKafka } from '../../../services/common/kafka';
import type {
  EnrichedEvent,
  Exposure,
  FailedEvent,
  RegistryChange,
  TrackingEvent,
  WindowAggregate,
} from '../../../services/common/records';
import { AvroSerde } from '../../../services/common/serde';
import {
  TOPICS,
  ensureTopics,
  renamedSpec,
  type TopicName,
  type TopicSpec,
} from '../../../services/common/topics';
import { runQuery } from '../../../services/sink/bigquery-jobs';
import { serviceMain } from '../setup/build';
import { stack, uniqueName } from '../setup/stack';

export const ROOT = join(__dirname, '..', '..', '..');
export const quietLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** The emulator's Storage Write API (gRPC) next to its REST endpoint. */
export const storageEndpoint =
  process.env.BIGQUERY_STORAGE_ENDPOINT ??
  `${new URL(stack.bigqueryEndpoint).hostname}:${process.env.BIGQUERY_GRPC_PORT ?? 9060}`;

/**
 * Writes exposures straight into a table with the sink's own Write API code (one committed
 * stream), in a child process (see write-rows.child.js); `schema` stands in for schemas/.
 */
export async function writeExposures(datasetId: string, records: object[], schema?: object): Promise<void> {
  const input = JSON.stringify({
    project: stack.bigqueryProject,
    endpoint: storageEndpoint,
    dataset: datasetId,
    schema,
    records,
  });
  const child = spawn(process.execPath, [join(__dirname, 'write-rows.child.js'), input], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`writing rows failed: ${err}`);
}

export type TopicKey = 'raw' | 'exposures' | 'enriched' | 'aggregates' | 'failed' | 'registry' | 'results';

/** Unique topic names for one test file, with the declared specs (fewer partitions). */
export function uniqueTopics(
  prefix: string,
  partitions = 3,
): { names: Record<TopicKey, string>; specs: TopicSpec[] } {
  const base = uniqueName(prefix);
  const names: Record<TopicKey, string> = {
    raw: `${base}.raw`,
    exposures: `${base}.exposures`,
    enriched: `${base}.enriched`,
    aggregates: `${base}.aggregates`,
    failed: `${base}.failed`,
    registry: `${base}.registry`,
    results: `${base}.results`,
  };
  const pick = (t: TopicName, name: string) => renamedSpec(t, partitions, name);
  const specs = [
    pick(TOPICS.rawEvents, names.raw),
    pick(TOPICS.exposures, names.exposures),
    pick(TOPICS.enrichedEvents, names.enriched),
    pick(TOPICS.aggregates, names.aggregates),
    pick(TOPICS.failedEvents, names.failed),
    pick(TOPICS.registryChanges, names.registry),
    pick(TOPICS.results, names.results),
  ];
  return { names, specs };
}

/** The sink's environment for a test: its own dataset, topics and consumer group. */
export function sinkEnvFor(
  dataset: string,
  names: Record<TopicKey, string>,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    KAFKA_BROKERS: stack.kafkaBrokers.join(','),
    SCHEMA_REGISTRY_URL: stack.schemaRegistryUrl,
    XP_TOPIC_PARTITIONS: '3',
    BIGQUERY_PROJECT: stack.bigqueryProject,
    BIGQUERY_DATASET: dataset,
    BIGQUERY_LOCATION: 'US',
    BIGQUERY_API_ENDPOINT: stack.bigqueryEndpoint,
    // The child gets no other environment: name the Write API's port too.
    BIGQUERY_GRPC_PORT: String(stack.bigqueryGrpcPort),
    SINK_PORT: '0',
    SINK_GROUP_ID: `${dataset}-sink`,
    SINK_EVENTS_TOPIC: names.raw,
    SINK_EXPOSURES_TOPIC: names.exposures,
    SINK_ENRICHED_TOPIC: names.enriched,
    SINK_AGGREGATES_TOPIC: names.aggregates,
    SINK_FAILED_TOPIC: names.failed,
    SINK_REGISTRY_TOPIC: names.registry,
    SINK_RESULTS_TOPIC: names.results,
    SINK_BATCH_MAX_DELAY_MS: '300',
    SINK_RETRY_MAX_MS: '2000',
    ...extra,
  };
}

export function bigquery(): BigQuery {
  return createBigQuery({
    projectId: stack.bigqueryProject,
    location: 'US',
    apiEndpoint: stack.bigqueryEndpoint,
  });
}

export async function query<T = Record<string, unknown>>(bq: BigQuery, sql: string): Promise<T[]> {
  return (await runQuery(bq, sql)).rows as T[];
}

/** Produces Avro records to the test's topics. */
export class TestProducer {
  private constructor(
    readonly kafka: Kafka,
    readonly serde: AvroSerde,
    private readonly producer: Producer,
  ) {}

  static async create(specs: TopicSpec[]): Promise<TestProducer> {
    const kafka = createKafka({ clientId: 'sink-test', brokers: stack.kafkaBrokers, logger: quietLogger });
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, specs);
    await admin.disconnect();
    const serde = await AvroSerde.create(stack.schemaRegistryUrl, specs);
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    return new TestProducer(kafka, serde, producer);
  }

  async send(topic: string, records: { key: string; value: unknown }[]): Promise<void> {
    for (let i = 0; i < records.length; i += 500) {
      await this.producer.send({
        topic,
        acks: -1,
        messages: records.slice(i, i + 500).map((r) => ({
          key: r.key,
          value: Buffer.isBuffer(r.value) ? r.value : this.serde.encode(topic, r.value),
        })),
      });
    }
  }

  async close(admin = true): Promise<void> {
    await this.producer.disconnect();
    void admin;
  }

  async deleteTopics(names: string[]): Promise<void> {
    const a = this.kafka.admin();
    await a.connect();
    await a.deleteTopics({ topics: names }).catch(() => undefined);
    await a.disconnect();
  }
}

// --- sample records -----------------------------------------------------------------------

const T0 = Date.UTC(2026, 4, 1, 12, 0, 0);

export function trackingEvent(i: number, over: Partial<TrackingEvent> = {}): TrackingEvent {
  return {
    messageId: `ev-${i}`,
    type: 'track',
    event: i % 3 === 0 ? 'Order Completed' : 'Page Viewed',
    userId: `user-${i % 50}`,
    anonymousId: null,
    unitId: `user-${i % 50}`,
    timestamp: T0 + i * 1000,
    originalTimestamp: T0 + i * 1000,
    sentAt: T0 + i * 1000,
    receivedAt: T0 + i * 1000 + 5,
    value: i % 7,
    properties: JSON.stringify({ value: i % 7 }),
    traits: null,
    context: '{"library":{"name":"test"}}',
    sourceId: 'src-test',
    ...over,
  };
}

export function exposure(i: number, over: Partial<Exposure> = {}): Exposure {
  return {
    messageId: `exp-${i}`,
    unitId: `user-${i}`,
    experimentKey: 'checkout-button',
    variationId: i % 2 === 0 ? 'control' : 'treatment',
    timestamp: T0 + i * 1000,
    receivedAt: T0 + i * 1000,
    origin: 'collector',
    attributes: null,
    ...over,
  };
}

export function enrichedEvent(i: number, over: Partial<EnrichedEvent> = {}): EnrichedEvent {
  return {
    eventId: `ev-${i}`,
    unitId: `user-${i}`,
    event: 'Order Completed',
    value: i,
    timestamp: T0 + i * 1000,
    experimentKey: 'checkout-button',
    variationId: i % 2 === 0 ? 'control' : 'treatment',
    phase: 1,
    exposedAt: T0,
    multipleVariants: false,
    late: false,
    sourceTopic: 'raw',
    sourcePartition: 0,
    sourceOffset: i,
    ...over,
  };
}

export function windowAggregate(i: number, over: Partial<WindowAggregate> = {}): WindowAggregate {
  return {
    experimentKey: 'checkout-button',
    variationId: i % 2 === 0 ? 'control' : 'treatment',
    metric: 'Order Completed',
    windowStart: T0 + i * 60_000,
    windowEnd: T0 + (i + 1) * 60_000,
    events: 3,
    units: 2,
    valueSum: 10,
    valueSumSquares: 50,
    exposedUnits: 0,
    partition: i % 3,
    ...over,
  };
}

export function registryChange(i: number, over: Partial<RegistryChange> = {}): RegistryChange {
  return {
    sequence: i,
    entityType: 'experiment',
    key: 'checkout-button',
    version: i,
    action: i === 1 ? 'created' : 'updated',
    actor: 'test',
    changedAt: T0 + i,
    snapshot: JSON.stringify({ key: 'checkout-button', attributionWindowHours: 72, variants: [] }),
    ...over,
  };
}

export function failedEvent(i: number, over: Partial<FailedEvent> = {}): FailedEvent {
  return {
    failureId: `fail-${i}`,
    stage: 'collector',
    failedAt: T0 + i,
    messageId: null,
    payload: Buffer.from(`{"bad":${i}}`),
    reasons: [{ code: 'schema_violation', path: 'event', message: 'expected string' }],
    sourceId: 'src-test',
    sourceTopic: null,
    sourcePartition: null,
    sourceOffset: null,
    ...over,
  };
}

// --- the sink as a child process -----------------------------------------------------------

export const SINK_MAIN = join(ROOT, 'dist', 'services', 'sink', 'main.js');

/** dist/ is built once by the integration global setup; this checks the sink is there. */
export function buildSink(): void {
  serviceMain('sink');
}

export interface SinkProcess {
  child: ChildProcess;
  output: string[];
  exited: Promise<number | null>;
}

export function spawnSink(env: Record<string, string>): SinkProcess {
  const child = spawn(process.execPath, ['--enable-source-maps', SINK_MAIN], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const keep = (b: Buffer) => {
    output.push(b.toString());
    if (output.length > 200) output.shift();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output, exited };
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
  everyMs = 500,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Rows per row_id of a table: the effectively-once check ({} when all are exactly 1). */
export async function duplicatesAndCount(
  bq: BigQuery,
  dataset: string,
  table: string,
): Promise<{ rows: number; ids: number; maxPerId: number }> {
  const [r] = await query<{ rows: number; ids: number; max_per_id: number | null }>(
    bq,
    `SELECT COUNT(*) AS rows, COUNT(DISTINCT row_id) AS ids,
            (SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM \`${dataset}.${table}\` GROUP BY row_id)) AS max_per_id
     FROM \`${dataset}.${table}\``,
  );
  return { rows: Number(r!.rows), ids: Number(r!.ids), maxPerId: Number(r!.max_per_id ?? 0) };
}
