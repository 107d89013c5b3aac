// `make bench-enricher`: sustained raw events/s through the enricher (a child process built
// from dist/, exactly-once transactions, joins and windows) against a plain consume-and-produce
// pass-through with the same kafkajs client settings, on the same broker, in the same run.
//
//   BENCH_EVENTS (default 200000) raw events (+ ~14 % exposures), XP_TOPIC_PARTITIONS (6).
// Topics are unique to the run and deleted afterwards.
import { join } from 'node:path';
import pino from 'pino';
import { createKafka } from '../services/common/kafka';
import { ensureTopics, type TopicSpec } from '../services/common/topics';
import {
  EnricherProcess,
  TestKafka,
  experimentChange,
  generateWorkload,
  isolatedEnv,
  type Settings,
} from '../test/integration/enricher/harness';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 200_000);
const PARTITIONS = Number(process.env.XP_TOPIC_PARTITIONS ?? 6);
const MAX_BYTES = 1_048_576;
const CONCURRENCY = 4;
const settings: Settings = { partitions: PARTITIONS, windowMs: 60_000, graceMs: 30_000, reorderMs: 5_000 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function committed(tk: TestKafka, groupId: string, topic: string): Promise<number> {
  const [res] = await tk.admin.fetchOffsets({ groupId, topics: [topic] });
  return (res?.partitions ?? []).reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
}

/** Events/s between the first and the last progress of the group's committed offsets on `topic`. */
async function measure(tk: TestKafka, groupId: string, topic: string, total: number): Promise<number> {
  let first: { at: number; n: number } | undefined;
  for (;;) {
    const n = await committed(tk, groupId, topic);
    const at = Date.now();
    if (!first && n > 0) first = { at, n };
    if (n >= total) return ((n - first!.n) * 1000) / Math.max(1, at - first!.at);
    await sleep(100);
  }
}

async function passThrough(tk: TestKafka, source: string, sink: string, total: number): Promise<number> {
  const kafka = createKafka({
    clientId: 'bench-pass',
    brokers: tk.env.KAFKA_BROKERS!.split(','),
    logger: pino({ level: 'warn' }),
  });
  const groupId = `${tk.env.ENRICHER_GROUP_ID}.pass`;
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const consumer = kafka.consumer({ groupId, maxBytesPerPartition: MAX_BYTES, readUncommitted: false });
  await consumer.connect();
  await consumer.subscribe({ topic: source, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    partitionsConsumedConcurrently: CONCURRENCY,
    eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
      await producer.send({
        topic: sink,
        acks: -1,
        messages: batch.messages.map((m) => ({ key: m.key, value: m.value, partition: batch.partition })),
      });
      resolveOffset(batch.lastOffset());
      await consumer.commitOffsets([
        { topic: batch.topic, partition: batch.partition, offset: String(Number(batch.lastOffset()) + 1) },
      ]);
      await heartbeat();
    },
  });
  const rate = await measure(tk, groupId, source, total);
  // Bounded: a kafkajs disconnect can wait on an in-flight fetch for long.
  await Promise.race([Promise.all([consumer.disconnect(), producer.disconnect()]), sleep(10_000)]);
  return rate;
}

async function main(): Promise<void> {
  const env: Record<string, string> = {
    ...isolatedEnv('bench.enricher', settings),
    ENRICHER_PARTITIONS_CONCURRENTLY: String(CONCURRENCY),
    ENRICHER_MAX_BYTES_PER_PARTITION: String(MAX_BYTES),
    ENRICHER_IDLE_MS: '5000',
    LOG_LEVEL: 'warn',
  };
  const tk = new TestKafka(env);
  await tk.setup();
  const passSink: TopicSpec = {
    name: `${env.ENRICHER_RAW_TOPIC!}.copy`,
    schema: 'tracking-event',
    partitions: PARTITIONS,
    config: {},
  };
  await ensureTopics(tk.admin, [passSink]);
  try {
    const workload = generateWorkload({ events: EVENTS, units: 20_000, partitions: PARTITIONS });
    const exposures = workload.exposures.flat().length;
    process.stdout.write(
      `producing ${EVENTS} events and ${exposures} exposures into ${PARTITIONS} partitions...\n`,
    );
    await tk.produceRegistry(workload.experiments.map((k, i) => experimentChange(k, i + 1)));
    await tk.produceWorkload(workload);

    const pass = await passThrough(tk, tk.names.raw, passSink.name, EVENTS);
    process.stdout.write(
      `pass-through (consume + produce + commit, same client settings): ${pass.toFixed(0)} events/s\n`,
    );

    // dist/ is built by `make bench-enricher` (through `make up`).
    const proc = new EnricherProcess(join(__dirname, '..', 'services', 'enricher', 'main.js'), env);
    proc.start();
    proc.child!.on('exit', (code) => {
      process.stderr.write(`enricher exited (${code}):\n${proc.output}\n`);
      process.exit(1);
    });
    const enr = await measure(tk, env.ENRICHER_GROUP_ID!, tk.names.raw, EVENTS);
    proc.child!.removeAllListeners('exit');
    await proc.stop();
    process.stdout.write(
      `enricher (exactly-once, join + windows, ${exposures} exposures too): ${enr.toFixed(0)} events/s\n` +
        `ratio enricher / pass-through: ${((enr / pass) * 100).toFixed(0)} % (target >= 50 %); ` +
        `absolute target >= 30000 events/s: ${enr >= 30_000 ? 'met' : 'NOT met'}\n`,
    );
  } finally {
    await tk.admin.deleteTopics({ topics: [passSink.name] }).catch(() => undefined);
    await tk.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
