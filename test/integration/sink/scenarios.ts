// The effectively-once scenarios, parameterised by scale: the integration tests run them
// small, test/chaos/sink runs them big. The sink runs as a child process from dist/.

import type { BigQuery } from '@google-cloud/bigquery';
import { createBigQuery } from '../../../services/common/bigquery';
import { PrivateEmulator, freePort } from '../setup/private-emulator';
import { stack, uniqueName } from '../setup/stack';
import {
  TestProducer,
  bigquery,
  duplicatesAndCount,
  exposure,
  query,
  registryChange,
  sinkEnvFor,
  spawnSink,
  trackingEvent,
  uniqueTopics,
  waitFor,
  windowAggregate,
  type SinkProcess,
  type TopicKey,
} from './helpers';
import { TcpProxy } from './tcp-proxy';

export interface Scale {
  rawEvents: number;
  exposures: number;
  aggregates: number;
  /** Records that are not Avro: each must give exactly one failed_events row. */
  garbage: number;
  /** Records per produce call, and the pause between calls (spreads them over time). */
  chunk: number;
  pauseMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Workload {
  topic: TopicKey;
  records: { key: string; value: unknown }[];
}

function workload(scale: Scale, runId: string): Workload[] {
  const range = (n: number) => Array.from({ length: n }, (_, i) => i);
  return [
    {
      topic: 'raw',
      records: range(scale.rawEvents).map((i) => {
        const v = trackingEvent(i, { messageId: `${runId}-ev-${i}` });
        return { key: v.unitId, value: v };
      }),
    },
    {
      topic: 'exposures',
      records: range(scale.exposures).map((i) => {
        const v = exposure(i, { messageId: `${runId}-exp-${i}` });
        return { key: v.unitId, value: v };
      }),
    },
    {
      topic: 'aggregates',
      records: range(scale.aggregates).map((i) => ({
        key: `agg-${i}`,
        value: windowAggregate(i, { partition: 0 }),
      })),
    },
    {
      topic: 'registry',
      records: range(5).map((i) => ({ key: 'experiment:checkout', value: registryChange(i + 1) })),
    },
    {
      topic: 'raw',
      records: range(scale.garbage).map((i) => ({ key: `g-${i}`, value: Buffer.from(`garbage ${i}`) })),
    },
  ];
}

/** Produces the workload in interleaved chunks spread over time. */
async function produce(
  producer: TestProducer,
  names: Record<TopicKey, string>,
  work: Workload[],
  scale: Scale,
) {
  const queues = work.map((w) => ({ topic: names[w.topic], records: [...w.records] }));
  while (queues.some((q) => q.records.length > 0)) {
    for (const q of queues) {
      const part = q.records.splice(0, scale.chunk);
      if (part.length > 0) await producer.send(q.topic, part);
    }
    await sleep(scale.pauseMs);
  }
}

export interface Expected {
  events: number;
  exposures: number;
  variant_window_metrics: number;
  experiments: number;
  failed_events: number;
}

function expectedOf(scale: Scale): Expected {
  return {
    events: scale.rawEvents,
    exposures: scale.exposures,
    variant_window_metrics: scale.aggregates,
    experiments: 5,
    failed_events: scale.garbage,
  };
}

/** Waits until every table holds its expected number of distinct ids, then returns the exact counts. */
async function settle(bq: BigQuery, datasetId: string, expected: Expected, timeoutMs: number) {
  await waitFor(
    'BigQuery to hold every record',
    async () => {
      for (const [table, n] of Object.entries(expected)) {
        const [r] = await query<{ n: number }>(
          bq,
          `SELECT COUNT(DISTINCT row_id) AS n FROM \`${datasetId}.${table}\``,
        );
        if (Number(r!.n) < n) return undefined;
      }
      return true;
    },
    timeoutMs,
    1000,
  );
  // A moment longer: a duplicate would show up now if a replay were not idempotent.
  await sleep(1500);
  const out: Record<string, { rows: number; ids: number; maxPerId: number }> = {};
  for (const table of Object.keys(expected)) out[table] = await duplicatesAndCount(bq, datasetId, table);
  return out;
}

/** Exactly one row per produced record, in every table. */
export function exactlyOnce(expected: Expected) {
  return Object.fromEntries(Object.entries(expected).map(([t, n]) => [t, { rows: n, ids: n, maxPerId: 1 }]));
}

export interface Outcome {
  expected: Expected;
  counts: Record<string, { rows: number; ids: number; maxPerId: number }>;
  kills?: number[];
  exitCode: number | null;
  sawNotReady?: boolean;
  transientErrors?: number;
}

/** Kills the sink with SIGKILL at random moments while records are produced. */
export async function killScenario(scale: Scale, kills: number, settleTimeoutMs = 180_000): Promise<Outcome> {
  const datasetId = uniqueName('sink_kill');
  const { names, specs } = uniqueTopics('sink-kill');
  const bq = bigquery();
  const producer = await TestProducer.create(specs);
  const env = sinkEnvFor(datasetId, names, {
    SINK_BATCH_MAX_ROWS: '150',
    SINK_SESSION_TIMEOUT_MS: '6000',
    SINK_HEARTBEAT_INTERVAL_MS: '1000',
  });
  const children: SinkProcess[] = [];
  try {
    const producing = produce(producer, names, workload(scale, datasetId), scale);
    const killedAfter: number[] = [];
    for (let k = 0; k < kills; k++) {
      const p = spawnSink(env);
      children.push(p);
      // Random moments: during start-up, mid-batch, mid-MERGE, between load and commit.
      const after = 1000 + Math.floor(Math.random() * 5000);
      killedAfter.push(after);
      await sleep(after);
      p.child.kill('SIGKILL');
      await p.exited;
    }
    await producing;
    const last = spawnSink(env);
    children.push(last);
    const counts = await settle(bq, datasetId, expectedOf(scale), settleTimeoutMs);
    last.child.kill('SIGTERM');
    const exitCode = await last.exited;
    return { expected: expectedOf(scale), counts, kills: killedAfter, exitCode };
  } finally {
    for (const c of children)
      if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
    await producer.deleteTopics(Object.values(names));
    await producer.close();
    await bq
      .dataset(datasetId)
      .delete({ force: true })
      .catch(() => undefined);
  }
}

/**
 * Makes BigQuery unreachable for the sink (a proxy in between goes down) while records
 * keep coming, then brings it back: no loss, no duplicates, no crash.
 */
export async function outageScenario(
  scale: Scale,
  outages: number,
  outageMs: number,
  settleTimeoutMs = 180_000,
): Promise<Outcome> {
  const datasetId = uniqueName('sink_outage');
  const { names, specs } = uniqueTopics('sink-outage');
  const bq = bigquery();
  const producer = await TestProducer.create(specs);
  const target = new URL(stack.bigqueryEndpoint);
  // Both of BigQuery's doors go down together: REST (tables, queries) and the Storage Write
  // API's gRPC port (appends).
  const proxy = new TcpProxy(target.hostname, Number(target.port));
  const grpcProxy = new TcpProxy(target.hostname, stack.bigqueryGrpcPort);
  await proxy.up();
  await grpcProxy.up();
  const port = await freePort();
  const env = sinkEnvFor(datasetId, names, {
    BIGQUERY_API_ENDPOINT: proxy.url,
    BIGQUERY_STORAGE_ENDPOINT: `127.0.0.1:${grpcProxy.port}`,
    SINK_PORT: String(port),
    SINK_BATCH_MAX_ROWS: '200',
  });
  const sink = spawnSink(env);
  let sawNotReady = false;
  try {
    await waitFor(
      'the sink to be ready',
      async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok,
      60_000,
    );
    const producing = produce(producer, names, workload(scale, datasetId), scale);
    for (let o = 0; o < outages; o++) {
      await sleep(1000 + Math.floor(Math.random() * 2000));
      await Promise.all([proxy.down(), grpcProxy.down()]);
      const until = Date.now() + outageMs;
      while (Date.now() < until) {
        const r = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
        if (r && r.status === 503) sawNotReady = true;
        await sleep(500);
      }
      await Promise.all([proxy.up(), grpcProxy.up()]);
    }
    await producing;
    const counts = await settle(bq, datasetId, expectedOf(scale), settleTimeoutMs);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const transientErrors = metrics
      .split('\n')
      .filter((l) => l.startsWith('xp_sink_errors_total{') && l.includes('kind="bigquery_transient"'))
      .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
    if (process.env.TEST_SINK_OUTPUT) console.log(sink.output.join(''), metrics);
    const alive = sink.child.exitCode === null;
    sink.child.kill('SIGTERM');
    const exitCode = await sink.exited;
    return {
      expected: expectedOf(scale),
      counts,
      exitCode: alive ? exitCode : -1,
      sawNotReady,
      transientErrors,
    };
  } finally {
    if (sink.child.exitCode === null && sink.child.signalCode === null) sink.child.kill('SIGKILL');
    await proxy.down();
    await grpcProxy.down();
    await producer.deleteTopics(Object.values(names));
    await producer.close();
    await bq
      .dataset(datasetId)
      .delete({ force: true })
      .catch(() => undefined);
  }
}

/** One sink process of a crash scenario: a crash point that must kill it, or a plain kill -9 after a while. */
export interface CrashStep {
  failpoint?: string;
  killAfterMs?: number;
}

/**
 * Runs sink processes one after another while records are produced: each step dies at its
 * crash point (SINK_FAILPOINT, the sink kills itself with SIGKILL there) or is killed with
 * SIGKILL after a while; a last process loads the rest. Reports whether each crash point
 * was really reached.
 */
export async function crashScenario(
  scale: Scale,
  steps: CrashStep[],
  settleTimeoutMs = 180_000,
): Promise<Outcome & { crashed: boolean[] }> {
  const datasetId = uniqueName('sink_crash');
  const { names, specs } = uniqueTopics('sink-crash');
  const bq = bigquery();
  const producer = await TestProducer.create(specs);
  const base = sinkEnvFor(datasetId, names, {
    SINK_BATCH_MAX_ROWS: '150',
    SINK_SESSION_TIMEOUT_MS: '6000',
    SINK_HEARTBEAT_INTERVAL_MS: '1000',
  });
  const children: SinkProcess[] = [];
  try {
    const producing = produce(producer, names, workload(scale, datasetId), scale);
    const crashed: boolean[] = [];
    for (const step of steps) {
      const p = spawnSink({ ...base, ...(step.failpoint ? { SINK_FAILPOINT: step.failpoint } : {}) });
      children.push(p);
      const limit = step.killAfterMs ?? 60_000;
      const started = Date.now();
      const timer = setTimeout(() => p.child.kill('SIGKILL'), limit);
      await p.exited;
      clearTimeout(timer);
      // A crash point fired when the process died by SIGKILL before the test's own deadline.
      crashed.push(
        p.child.signalCode === 'SIGKILL' && (step.killAfterMs !== undefined || Date.now() - started < limit),
      );
    }
    await producing;
    const last = spawnSink(base);
    children.push(last);
    const counts = await settle(bq, datasetId, expectedOf(scale), settleTimeoutMs);
    last.child.kill('SIGTERM');
    const exitCode = await last.exited;
    return { expected: expectedOf(scale), counts, exitCode, crashed };
  } finally {
    for (const c of children)
      if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
    await producer.deleteTopics(Object.values(names));
    await producer.close();
    await bq
      .dataset(datasetId)
      .delete({ force: true })
      .catch(() => undefined);
  }
}

/**
 * Two sinks in one group while records are produced: the second joins (rebalance), then the
 * first is frozen (SIGSTOP) until the group gives its partitions away, and thawed: a zombie
 * whose streams the new owner finalized and whose commits the broker refuses. Nothing may
 * be lost or duplicated.
 */
export async function rebalanceScenario(scale: Scale, settleTimeoutMs = 180_000): Promise<Outcome> {
  const datasetId = uniqueName('sink_rebalance');
  const { names, specs } = uniqueTopics('sink-rebalance');
  const bq = bigquery();
  const producer = await TestProducer.create(specs);
  const env = sinkEnvFor(datasetId, names, {
    SINK_BATCH_MAX_ROWS: '150',
    SINK_SESSION_TIMEOUT_MS: '6000',
    SINK_HEARTBEAT_INTERVAL_MS: '1000',
  });
  const a = spawnSink(env);
  let b: SinkProcess | undefined;
  try {
    const producing = produce(producer, names, workload(scale, datasetId), scale);
    await sleep(3000);
    b = spawnSink(env);
    await sleep(4000);
    a.child.kill('SIGSTOP');
    await sleep(9000); // beyond the session timeout: the group moves everything to b
    a.child.kill('SIGCONT');
    await producing;
    const counts = await settle(bq, datasetId, expectedOf(scale), settleTimeoutMs);
    a.child.kill('SIGTERM');
    b.child.kill('SIGTERM');
    const [codeA, codeB] = await Promise.all([a.exited, b.exited]);
    return { expected: expectedOf(scale), counts, exitCode: Math.max(codeA ?? 1, codeB ?? 1) };
  } finally {
    for (const c of [a, b])
      if (c && c.child.exitCode === null && c.child.signalCode === null) {
        c.child.kill('SIGCONT');
        c.child.kill('SIGKILL');
      }
    await producer.deleteTopics(Object.values(names));
    await producer.close();
    await bq
      .dataset(datasetId)
      .delete({ force: true })
      .catch(() => undefined);
  }
}

/**
 * The sink against an emulator of its own, restarted mid-stream: the emulator forgets every
 * write stream (it keeps them in memory) but keeps the tables, so the sink must recover
 * without a stream to count, from the rows the table holds.
 */
export async function emulatorRestartScenario(
  scale: Scale,
  restarts: number,
  settleTimeoutMs = 180_000,
): Promise<Outcome & { streamsLost: number }> {
  const emulator = new PrivateEmulator(stack.bigqueryProject);
  await emulator.start();
  const datasetId = uniqueName('sink_emurestart');
  const { names, specs } = uniqueTopics('sink-emurestart');
  const bq = createBigQuery({
    projectId: stack.bigqueryProject,
    location: 'US',
    apiEndpoint: emulator.restUrl,
  });
  const producer = await TestProducer.create(specs);
  const port = await freePort();
  const sink = spawnSink(
    sinkEnvFor(datasetId, names, {
      BIGQUERY_API_ENDPOINT: emulator.restUrl,
      BIGQUERY_STORAGE_ENDPOINT: emulator.grpcEndpoint,
      SINK_PORT: String(port),
      SINK_BATCH_MAX_ROWS: '150',
    }),
  );
  try {
    await waitFor(
      'the sink to be ready',
      async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok,
      60_000,
    );
    const producing = produce(producer, names, workload(scale, datasetId), scale);
    for (let r = 0; r < restarts; r++) {
      await sleep(2000 + Math.floor(Math.random() * 2000));
      await emulator.restart();
    }
    await producing;
    const counts = await settle(bq, datasetId, expectedOf(scale), settleTimeoutMs);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const streamsLost = metrics
      .split('\n')
      .filter((l) => l.startsWith('xp_sink_recoveries_total{') && l.includes('mode="row_offsets"'))
      .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
    sink.child.kill('SIGTERM');
    const exitCode = await sink.exited;
    return { expected: expectedOf(scale), counts, exitCode, streamsLost };
  } finally {
    if (sink.child.exitCode === null && sink.child.signalCode === null) sink.child.kill('SIGKILL');
    await producer.deleteTopics(Object.values(names));
    await producer.close();
    await emulator.close();
  }
}
