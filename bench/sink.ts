// make bench-sink: the sink's throughput into BigQuery (the local emulator) and its
// end-to-end latency (record produced -> row queryable), against baselines measured in
// the same run on the same machine with the same Storage Write API client:
//   throughput baseline: raw appendRows of the same rows (one committed stream, requests of
//                        the sink's batch size, one after another);
//   latency baseline:    a raw append of a 100-row batch until its rows are queryable.
// Environment: BENCH_SINK_ROWS (20000), BENCH_SINK_LATENCY_SECONDS (20),
// BENCH_SINK_LATENCY_RATE (records/s, 100), plus the stack's usual address variables.

import type { BigQuery } from '@google-cloud/bigquery';
import type { Producer } from 'kafkajs';
import pino from 'pino';
import { Registry } from 'prom-client';
import { createBigQuery } from '../services/common/bigquery';
import { createKafka } from '../services/common/kafka';
import type { TrackingEvent } from '../services/common/records';
import { AvroSerde } from '../services/common/serde';
import { TOPICS, ensureTopics, renamedSpec } from '../services/common/topics';
import { runQuery } from '../services/sink/bigquery-jobs';
import { sinkConfig } from '../services/sink/config';
import { startSink, storageEndpoint } from '../services/sink/main';
import { toRow, type Row } from '../services/sink/rows';
import { ensureDataset, ensureTables, tableDefs } from '../services/sink/tables';
import {
  createCommittedStream,
  createWriterClient,
  descriptorOf,
  tablePath,
} from '../services/sink/write-api';

const env = process.env;
const host = env.XP_HOST ?? '127.0.0.1';
const brokers = (env.KAFKA_BROKERS ?? `${host}:${env.KAFKA_PORT ?? 9092}`).split(',');
const registryUrl = env.SCHEMA_REGISTRY_URL ?? `http://${host}:${env.SCHEMA_REGISTRY_PORT ?? 8081}`;
const endpoint = env.BIGQUERY_API_ENDPOINT ?? `http://${host}:${env.BIGQUERY_PORT ?? 9050}`;
const project = env.BIGQUERY_PROJECT ?? 'xp-local';
const ROWS = Number(env.BENCH_SINK_ROWS ?? 20_000);
const LATENCY_SECONDS = Number(env.BENCH_SINK_LATENCY_SECONDS ?? 20);
const LATENCY_RATE = Number(env.BENCH_SINK_LATENCY_RATE ?? 100);

const logger = pino({ level: env.LOG_LEVEL ?? 'warn' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const id = `${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;

function event(prefix: string, i: number, at = Date.now()): TrackingEvent {
  const unit = `user-${i % 5000}`;
  return {
    messageId: `${prefix}-${i}`,
    type: 'track',
    event: i % 4 === 0 ? 'Order Completed' : 'Page Viewed',
    userId: unit,
    anonymousId: null,
    unitId: unit,
    timestamp: at,
    originalTimestamp: at,
    sentAt: at,
    receivedAt: at,
    value: i % 50,
    properties: JSON.stringify({ value: i % 50, plan: 'pro', path: '/checkout' }),
    traits: null,
    context: JSON.stringify({ library: { name: 'bench', version: '1.0.0' }, locale: 'en-GB' }),
    sourceId: 'bench',
  };
}

async function count(bq: BigQuery, sql: string): Promise<number> {
  return Number((await runQuery(bq, sql)).rows[0]?.n ?? 0);
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function produceAll(producer: Producer, serde: AvroSerde, topic: string, events: TrackingEvent[]) {
  for (let i = 0; i < events.length; i += 1000) {
    await producer.send({
      topic,
      acks: -1,
      messages: events.slice(i, i + 1000).map((e) => ({ key: e.unitId, value: serde.encode(topic, e) })),
    });
  }
}

async function main(): Promise<void> {
  const bq = createBigQuery({ projectId: project, location: 'US', apiEndpoint: endpoint });
  const datasetId = `bench_sink_${id}`;
  const topic = `bench.sink.${id}.raw`;
  const defs = tableDefs();
  const kafka = createKafka({ clientId: 'bench-sink', brokers, logger });
  const admin = kafka.admin();
  await admin.connect();
  const spec = renamedSpec(TOPICS.cleanEvents, 6, topic);
  await ensureTopics(admin, [spec]);
  const serde = await AvroSerde.create(registryUrl, [spec]);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  let stopSink: (() => Promise<void>) | undefined;
  const cfg = sinkConfig({
    ...env,
    KAFKA_BROKERS: brokers.join(','),
    SCHEMA_REGISTRY_URL: registryUrl,
    BIGQUERY_API_ENDPOINT: endpoint,
    BIGQUERY_PROJECT: project,
    BIGQUERY_DATASET: datasetId,
    SINK_GROUP_ID: `bench-sink-${id}`,
    SINK_EVENTS_TOPIC: topic,
    SINK_EXPOSURES_TOPIC: `${topic}.exposures`,
    SINK_ENRICHED_TOPIC: `${topic}.enriched`,
    SINK_AGGREGATES_TOPIC: `${topic}.aggregates`,
    SINK_FAILED_TOPIC: `${topic}.failed`,
    SINK_REGISTRY_TOPIC: `${topic}.registry`,
    SINK_RESULTS_TOPIC: `${topic}.results`,
    SINK_INSTALL_VIEWS: 'false',
  });
  const client = createWriterClient({ projectId: project, endpoint: storageEndpoint(cfg.env) });

  try {
    // --- baseline: raw appends of the same rows, same client ------------------------------
    const dataset = await ensureDataset(bq, `${datasetId}_baseline`, 'US');
    const def = defs.get('events')!;
    await ensureTables(bq, dataset, [def], logger);
    const lineage = (i: number) => ({ topic, partition: 0, offset: String(i) });
    const rowsOf = (prefix: string, n: number) =>
      Array.from(
        { length: n },
        (_, i) => (toRow(def, event(prefix, i) as never, lineage(i), null) as { row: Row }).row,
      );
    const rows = rowsOf('base', ROWS);
    const chunkRows = cfg.env.SINK_BATCH_MAX_ROWS;
    const stream = await createCommittedStream(
      client,
      tablePath(project, dataset.id!, 'events'),
      descriptorOf(def.fields),
    );
    let t = performance.now();
    for (let i = 0; i < rows.length; i += chunkRows) {
      const wait = await stream.send(rows.slice(i, i + chunkRows).map((r) => r.json) as never, i, 60_000);
      const result = await wait();
      if (result.kind !== 'ok') throw new Error(`baseline append at ${i}: ${JSON.stringify(result)}`);
    }
    const baseAppendMs = performance.now() - t;
    stream.close();
    const baseCount = await count(bq, `SELECT COUNT(*) AS n FROM \`${dataset.id}.events\``);
    if (baseCount !== ROWS) throw new Error(`baseline appends hold ${baseCount} rows`);
    const baselineRowsPerSec = ROWS / (baseAppendMs / 1000);

    // Latency baseline: 100-row appends until queryable.
    const baseLat: number[] = [];
    const latStream = await createCommittedStream(
      client,
      tablePath(project, dataset.id!, 'events'),
      descriptorOf(def.fields),
    );
    for (let b = 0; b < 10; b++) {
      const batch = rowsOf(`lat${b}`, 100);
      t = performance.now();
      const result = await (await latStream.send(batch.map((r) => r.json) as never, b * 100, 60_000))();
      if (result.kind !== 'ok') throw new Error(`latency baseline append: ${JSON.stringify(result)}`);
      while (
        (await count(
          bq,
          `SELECT COUNT(*) AS n FROM \`${dataset.id}.events\` WHERE STARTS_WITH(message_id, 'lat${b}-')`,
        )) < 100
      ) {
        await sleep(20);
      }
      baseLat.push(performance.now() - t);
    }
    latStream.close();
    await dataset.delete({ force: true });

    // --- the sink: throughput over a backlog ----------------------------------------------
    await produceAll(
      producer,
      serde,
      topic,
      Array.from({ length: ROWS }, (_, i) => event('ev', i)),
    );
    const sink = await startSink(cfg, { logger, metrics: new Registry() });
    stopSink = () => sink.stop();
    t = performance.now();
    while ((await count(bq, `SELECT COUNT(*) AS n FROM \`${datasetId}.events\``)) < ROWS) await sleep(250);
    const sinkMs = performance.now() - t;
    const sinkRowsPerSec = ROWS / (sinkMs / 1000);

    // --- the sink: end-to-end latency at a steady rate ------------------------------------
    const producedAt = new Map<string, number>();
    const latencies: number[] = [];
    let producing = true;
    const poller = (async () => {
      while (producing || latencies.length < producedAt.size) {
        const seen = await runQuery(
          bq,
          `SELECT message_id FROM \`${datasetId}.events\` WHERE STARTS_WITH(message_id, 'e2e-')`,
        );
        const now = performance.now();
        for (const r of seen.rows) {
          const at = producedAt.get(r.message_id as string);
          if (at !== undefined) {
            latencies.push(now - at);
            if (env.BENCH_SINK_TRACE) console.error(`trace ${Math.round(at)} ${Math.round(now - at)}`);
            producedAt.set(r.message_id as string, Infinity);
          }
        }
        if (!producing && [...producedAt.values()].every((v) => v === Infinity)) break;
        await sleep(100);
      }
    })();
    const perTick = Math.max(1, Math.round(LATENCY_RATE / 10));
    let n = 0;
    const until = performance.now() + LATENCY_SECONDS * 1000;
    while (performance.now() < until) {
      const batch = Array.from({ length: perTick }, () => event('e2e', n++));
      await producer.send({
        topic,
        acks: -1,
        messages: batch.map((e) => ({ key: e.unitId, value: serde.encode(topic, e) })),
      });
      const sentAt = performance.now();
      for (const e of batch) producedAt.set(e.messageId, sentAt);
      await sleep(100);
    }
    producing = false;
    await Promise.race([poller, sleep(60_000)]);
    const finite = latencies.filter(Number.isFinite);

    const result = {
      rows: ROWS,
      machine: `${(await import('node:os')).cpus().length} cores`,
      baseline: {
        rawAppendRowsPerSec: Math.round(baselineRowsPerSec),
        rawAppendLatencyMs: {
          p50: Math.round(percentile(baseLat, 50)),
          p95: Math.round(percentile(baseLat, 95)),
        },
      },
      sink: {
        rowsPerSec: Math.round(sinkRowsPerSec),
        e2eLatencyMs: {
          p50: Math.round(percentile(finite, 50)),
          p95: Math.round(percentile(finite, 95)),
          samples: finite.length,
          producedPerSec: Math.round(n / LATENCY_SECONDS),
        },
        batchMaxDelayMs: cfg.env.SINK_BATCH_MAX_DELAY_MS,
      },
      ratios: {
        throughputVsRawAppend: Number((sinkRowsPerSec / baselineRowsPerSec).toFixed(3)),
        latencyP50VsRawAppend: Number((percentile(finite, 50) / percentile(baseLat, 50)).toFixed(2)),
        latencyP95VsRawAppend: Number((percentile(finite, 95) / percentile(baseLat, 95)).toFixed(2)),
      },
    };
    console.log(JSON.stringify(result, null, 2));
    console.log(`ratio sink / raw append: ${(sinkRowsPerSec / baselineRowsPerSec).toFixed(2)}`);
    console.log(`end-to-end latency p95: ${(percentile(finite, 95) / 1000).toFixed(1)} s (target <= 5 s)`);
  } finally {
    await stopSink?.().catch(() => undefined);
    client.close();
    await producer.disconnect();
    const suffixes = ['', '.exposures', '.enriched', '.aggregates', '.failed', '.registry', '.results'];
    await admin.deleteTopics({ topics: suffixes.map((s) => `${topic}${s}`) }).catch(() => undefined);
    await admin.disconnect();
    await bq
      .dataset(datasetId)
      .delete({ force: true })
      .catch(() => undefined);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
