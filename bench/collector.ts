// make bench-collector: the collector's sustained throughput with 100-event batches over
// loopback (autocannon), p50/p99 latency and resident memory, against two baselines
// measured in the same run on the same machine:
//   ceiling:  the same server with Kafka production switched off (COLLECTOR_PRODUCE=false):
//             HTTP + JSON + validation + Avro encoding, records dropped after encoding;
//   producer: Kafka's own ProducerPerformance (acks=all) with the same record size.
// The collector runs as its own process (dist/services/collector/main.js), as in production.
// Environment: BENCH_DURATION_S (30), BENCH_CONNECTIONS (64), BENCH_PERF_RECORDS (2000000),
// plus the stack's usual address variables.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import pino from 'pino';
import { createKafka } from '../services/common/kafka';
import { avroType } from '../services/common/schemas';
import { normalize } from '../services/collector/normalize';
import { DEFAULT_LIMITS } from '../services/collector/rules';

const env = process.env;
const host = env.XP_HOST ?? '127.0.0.1';
const brokers = (env.KAFKA_BROKERS ?? `${host}:${env.KAFKA_PORT ?? 9092}`).split(',');
const registryUrl = env.SCHEMA_REGISTRY_URL ?? `http://${host}:${env.SCHEMA_REGISTRY_PORT ?? 8081}`;
const DURATION_S = Number(env.BENCH_DURATION_S ?? 30);
const CONNECTIONS = Number(env.BENCH_CONNECTIONS ?? 64);
const PERF_RECORDS = Number(env.BENCH_PERF_RECORDS ?? 2_000_000);
const BATCH = 100;
const WARMUP_S = 5;
const PARTITIONS = 6;

const ROOT = join(__dirname, '../..');
const MAIN = join(ROOT, 'dist/services/collector/main.js');
const KAFKA_SH = join(ROOT, 'infra/local/kafka.sh');
const WRITE_KEY = `bench-${randomUUID()}`;
const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const id = `${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;
const topics = {
  COLLECTOR_RAW_TOPIC: `bench.collector.raw_${id}`,
  COLLECTOR_EXPOSURES_TOPIC: `bench.collector.exposures_${id}`,
  COLLECTOR_FAILED_TOPIC: `bench.collector.failed_${id}`,
};
const perfTopic = `bench.collector.perf_${id}`;

/** A realistic track event as analytics.js or analytics-node would send it. */
function event(i: number): Record<string, unknown> {
  const now = new Date().toISOString();
  return {
    type: 'track',
    messageId: randomUUID(),
    userId: `user-${i % 10_000}`,
    anonymousId: randomUUID(),
    event: i % 10 === 0 ? 'Experiment Viewed' : 'Product Viewed',
    properties:
      i % 10 === 0
        ? { experiment_id: 'checkout-button', variation_id: i % 20 === 0 ? 'blue' : 'green' }
        : {
            product_id: `sku-${i % 500}`,
            price: 19.99,
            currency: 'EUR',
            category: 'shoes',
            position: i % 12,
          },
    context: {
      library: { name: 'analytics-node', version: '3.1.0' },
      page: { path: '/products', url: 'https://shop.example/products' },
      locale: 'de-DE',
    },
    timestamp: now,
  };
}

const BODIES = Array.from({ length: 64 }, (_, b) =>
  JSON.stringify({
    batch: Array.from({ length: BATCH }, (_, i) => event(b * BATCH + i)),
    sentAt: new Date().toISOString(),
  }),
);

/** Bytes of one Kafka record value the collector writes for these events (Avro + 5-byte header). */
function recordSize(): number {
  const type = avroType('tracking-event');
  const edge = {
    receivedAt: Date.now(),
    sourceId: 'bench',
    ip: '127.0.0.1',
    userAgent: 'autocannon',
    anonymizeIp: true,
  };
  const sizes = Array.from({ length: 1000 }, (_, i) => {
    const result = normalize(event(i), undefined, edge, DEFAULT_LIMITS, () => []);
    if (!result.ok) throw new Error(JSON.stringify(result.reasons));
    return type.toBuffer(result.event).length + 5;
  });
  return Math.round(sizes.reduce((a, b) => a + b, 0) / sizes.length);
}

interface Measured {
  eventsPerSecond: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  rssBeforeMb: number;
  rssAfterMb: number;
  rssMaxMb: number;
}

const rssMb = (pid: number) => {
  const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Math.round(Number(kb) / 1024);
};

async function startServer(port: number, produce: boolean): Promise<ChildProcess> {
  const child = spawn(process.execPath, [MAIN], {
    env: {
      ...env,
      ...topics,
      LOG_LEVEL: 'warn',
      KAFKA_BROKERS: brokers.join(','),
      SCHEMA_REGISTRY_URL: registryUrl,
      XP_TOPIC_PARTITIONS: String(PARTITIONS),
      COLLECTOR_PORT: String(port),
      COLLECTOR_PRODUCE: String(produce),
      COLLECTOR_RATE_LIMIT_MAX: '0',
      COLLECTOR_WRITE_KEYS: JSON.stringify([{ key: WRITE_KEY, sourceId: 'bench' }]),
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  for (let i = 0; i < 120; i++) {
    if (child.exitCode !== null) throw new Error(`collector exited with ${child.exitCode}`);
    const ok = await fetch(`http://${host}:${port}/readyz`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return child;
    await sleep(500);
  }
  throw new Error('collector did not become ready');
}

function load(port: number, seconds: number): Promise<autocannon.Result> {
  let next = 0;
  return autocannon({
    url: `http://${host}:${port}`,
    connections: CONNECTIONS,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        path: '/v1/batch',
        headers: {
          'content-type': 'application/json',
          authorization: `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`,
        },
        setupRequest: (req) => ({ ...req, body: BODIES[next++ % BODIES.length] }),
      },
    ],
  });
}

async function measure(name: string, port: number, produce: boolean): Promise<Measured> {
  console.log(`\n${name}: starting the collector (COLLECTOR_PRODUCE=${produce})`);
  const child = await startServer(port, produce);
  try {
    await load(port, WARMUP_S);
    const rssBeforeMb = rssMb(child.pid!);
    let rssMaxMb = rssBeforeMb;
    const sampler = setInterval(() => (rssMaxMb = Math.max(rssMaxMb, rssMb(child.pid!))), 1000);
    const result = await load(port, DURATION_S);
    clearInterval(sampler);
    const rssAfterMb = rssMb(child.pid!);
    const measured = {
      eventsPerSecond: Math.round((result['2xx'] * BATCH) / DURATION_S),
      p50: result.latency.p50,
      p99: result.latency.p99,
      non2xx: result.non2xx,
      errors: result.errors + result.timeouts,
      rssBeforeMb,
      rssAfterMb,
      rssMaxMb,
    };
    console.log(`${name}: ${JSON.stringify(measured)}`);
    return measured;
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

async function producerPerformance(size: number): Promise<{ recordsPerSecond: number; line: string }> {
  console.log(`\nproducer: ProducerPerformance, ${PERF_RECORDS} records of ${size} bytes, acks=all`);
  await run('bash', [
    KAFKA_SH,
    'topics',
    '--create',
    '--topic',
    perfTopic,
    '--partitions',
    String(PARTITIONS),
    '--replication-factor',
    '1',
  ]);
  const { stdout } = await run(
    'bash',
    [
      KAFKA_SH,
      'producer-perf',
      '--topic',
      perfTopic,
      '--num-records',
      String(PERF_RECORDS),
      '--record-size',
      String(size),
      '--throughput',
      '-1',
      '--command-property',
      'acks=all',
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  const line = stdout.trim().split('\n').at(-1)!;
  const recordsPerSecond = Number(/([\d.]+) records\/sec/.exec(line)?.[1]);
  console.log(`producer: ${line}`);
  return { recordsPerSecond, line };
}

async function cleanup(): Promise<void> {
  const kafka = createKafka({ clientId: 'bench-collector', brokers, logger: pino({ level: 'silent' }) });
  const admin = kafka.admin();
  await admin.connect();
  const mine = (await admin.listTopics()).filter((t) => t.includes(id));
  await admin.deleteTopics({ topics: mine }).catch(() => undefined);
  await admin.disconnect();
  for (const topic of Object.values(topics)) {
    await fetch(`${registryUrl}/subjects/${topic}-value`, { method: 'DELETE' }).catch(() => undefined);
  }
}

async function main(): Promise<void> {
  const size = recordSize();
  console.log(
    `collector benchmark: ${DURATION_S} s per run after ${WARMUP_S} s warm-up, ${CONNECTIONS} connections, ` +
      `${BATCH}-event batches, records of ${size} bytes`,
  );
  let ok: boolean;
  try {
    const ceiling = await measure('ceiling (no Kafka)', 17181, false);
    const collector = await measure('collector (Kafka, acks=all)', 17182, true);
    const producer = await producerPerformance(size);
    const vsCeiling = collector.eventsPerSecond / ceiling.eventsPerSecond;
    const vsProducer = collector.eventsPerSecond / producer.recordsPerSecond;
    const rows = [
      ['run', 'events/s', 'p50 ms', 'p99 ms', 'non-2xx', 'RSS MB before→after (max)'],
      [
        'ceiling (no Kafka)',
        ceiling.eventsPerSecond,
        ceiling.p50,
        ceiling.p99,
        ceiling.non2xx,
        `${ceiling.rssBeforeMb}→${ceiling.rssAfterMb} (${ceiling.rssMaxMb})`,
      ],
      [
        'collector (Kafka)',
        collector.eventsPerSecond,
        collector.p50,
        collector.p99,
        collector.non2xx,
        `${collector.rssBeforeMb}→${collector.rssAfterMb} (${collector.rssMaxMb})`,
      ],
      ['ProducerPerformance', Math.round(producer.recordsPerSecond), '', '', '', ''],
    ];
    console.log(`\n${rows.map((r) => r.map(String).join(' | ')).join('\n')}`);
    console.log(`collector / ceiling  = ${vsCeiling.toFixed(2)} (target >= 0.50)`);
    console.log(`collector / producer = ${vsProducer.toFixed(2)}`);
    console.log(`collector events/s   = ${collector.eventsPerSecond} (target >= 100000)`);
    const rssGrowth = collector.rssAfterMb - collector.rssBeforeMb;
    console.log(`collector RSS growth = ${rssGrowth} MB over ${DURATION_S} s`);
    ok =
      vsCeiling >= 0.5 &&
      collector.eventsPerSecond >= 100_000 &&
      collector.non2xx === 0 &&
      collector.errors === 0;
    console.log(ok ? 'targets met' : 'TARGETS MISSED');
  } finally {
    await cleanup();
  }
  process.exitCode = ok ? 0 : 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
