// Shared by the enricher's integration and chaos tests: isolated topics, a generated workload,
// the enricher as a child process, reading outputs read_committed, and the reference outputs
// computed independently from the input by the documented rule (docs/enricher.md).
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Admin, Consumer, Kafka, Producer } from 'kafkajs';
import pino from 'pino';
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
import { ensureTopics, type TopicSpec } from '../../../services/common/topics';
import { enricherTopicSpecs, loadEnricherConfig, topicNames } from '../../../services/enricher/config';
import { serviceMain } from '../setup/build';
import { stack, uniqueName } from '../setup/stack';

export const ROOT = join(__dirname, '..', '..', '..');
const logger = pino({ level: 'silent' });
export const T0 = Date.UTC(2026, 0, 1);

export interface Settings {
  partitions: number;
  windowMs: number;
  graceMs: number;
  reorderMs: number;
}
export const SETTINGS: Settings = { partitions: 3, windowMs: 10_000, graceMs: 5_000, reorderMs: 2_000 };

/** Environment for an enricher child using topics unique to this test run. */
export function isolatedEnv(prefix: string, s: Settings = SETTINGS): Record<string, string> {
  const name = uniqueName(prefix);
  return {
    KAFKA_BROKERS: stack.kafkaBrokers.join(','),
    SCHEMA_REGISTRY_URL: stack.schemaRegistryUrl,
    XP_TOPIC_PARTITIONS: String(s.partitions),
    LOG_LEVEL: process.env.ENRICHER_TEST_LOG_LEVEL ?? 'info',
    ENRICHER_PORT: '0',
    ENRICHER_GROUP_ID: `${name}.enricher`,
    ENRICHER_RAW_TOPIC: `${name}.raw`,
    ENRICHER_EXPOSURES_TOPIC: `${name}.exposures`,
    ENRICHER_REGISTRY_TOPIC: `${name}.registry`,
    ENRICHER_CLEAN_EVENTS_TOPIC: `${name}.clean-events`,
    ENRICHER_CLEAN_EXPOSURES_TOPIC: `${name}.clean-exposures`,
    ENRICHER_DECISIONS_TOPIC: `${name}.decisions`,
    ENRICHER_ENRICHED_TOPIC: `${name}.enriched`,
    ENRICHER_LATE_TOPIC: `${name}.late`,
    ENRICHER_AGGREGATES_TOPIC: `${name}.aggregates`,
    ENRICHER_FAILED_TOPIC: `${name}.failed`,
    ENRICHER_CHANGELOG_TOPIC: `${name}.state`,
    ENRICHER_WINDOW_MS: String(s.windowMs),
    ENRICHER_GRACE_MS: String(s.graceMs),
    ENRICHER_REORDER_MS: String(s.reorderMs),
    ENRICHER_IDLE_MS: '1500',
    // The workloads are in event time of the past: following the wall clock when idle would
    // close every window at once. The idle test (idle.test.ts) turns it on with current times.
    ENRICHER_IDLE_ADVANCE: 'false',
    ENRICHER_SESSION_TIMEOUT_MS: '6000',
    ENRICHER_PARTITIONS_CONCURRENTLY: '3',
  };
}

/** The compiled enricher (dist/ is built once by the integration global setup). */
export function buildEnricher(): string {
  return serviceMain('enricher');
}

export class EnricherProcess {
  child: ChildProcess | undefined;
  exits: Array<number | string | null> = [];
  /** Every assignment this instance received (from its 'partitions assigned' log lines). */
  assignments: number[][] = [];
  private stderr = '';
  private partial = '';

  constructor(
    private readonly main: string,
    private readonly env: Record<string, string>,
  ) {}

  start(): void {
    const child = spawn(process.execPath, ['--enable-source-maps', this.main], {
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => {
      if (process.env.ENRICHER_TEST_LOG_LEVEL) process.stdout.write(d);
      const lines = (this.partial + d.toString()).split('\n');
      this.partial = lines.pop()!;
      for (const line of lines) {
        if (!line.includes('partitions assigned')) continue;
        this.assignments.push((JSON.parse(line) as { partitions: number[] }).partitions);
      }
    });
    child.stderr!.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    child.on('exit', (code, signal) => this.exits.push(code ?? signal));
    this.child = child;
  }

  kill9(): void {
    this.child?.kill('SIGKILL');
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  }

  get output(): string {
    return this.stderr;
  }
}

// ---- workload ----

export interface Workload {
  /** Per partition, in produce (= offset) order; null stands for a poison record. */
  events: Array<Array<TrackingEvent | null>>;
  exposures: Array<Array<Exposure | null>>;
  experiments: string[];
  count: number;
}

/** Partition of a unit: explicit and simple, identical for both inputs (co-partitioning). */
export function partitionOf(unitId: string, partitions: number): number {
  let h = 0;
  for (let i = 0; i < unitId.length; i++) h = (h * 31 + unitId.charCodeAt(i)) >>> 0;
  return h % partitions;
}

/** exp-b's phase starts this long after T0: its earlier exposures are pre-start traffic. */
export const EXP_B_START = T0 + 20_000;

/**
 * A deterministic pseudo-random workload: units are exposed to one or two experiments (2 % of
 * them to two variants), send events before and after exposure, some exposures trail their
 * unit's events (within and beyond the reorder allowance), some events are late, some arrive
 * before exp-b started, and 3 % of records are re-sent later by a retrying client (same
 * messageId, a new sentAt and so a slightly different timestamp).
 */
export function generateWorkload(opts: {
  events: number;
  units: number;
  partitions: number;
  seed?: number;
  poison?: number;
}): Workload {
  let seed = opts.seed ?? 7;
  // mulberry32: integer arithmetic only, so the sequence is exact and well spread.
  const rnd = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const experiments = ['exp-a', 'exp-b'];
  const events: Workload['events'] = Array.from({ length: opts.partitions }, () => []);
  const exposures: Workload['exposures'] = Array.from({ length: opts.partitions }, () => []);
  const exposed = new Set<string>();
  let clock = T0;
  let n = 0;
  const resend = <T extends { timestamp: number; receivedAt: number }>(list: Array<T | null>) => {
    const original = list[Math.floor(rnd() * list.length)];
    if (original) list.push({ ...original, timestamp: original.timestamp + 40, receivedAt: clock });
  };
  for (let i = 0; n < opts.events; i++) {
    clock += 5 + Math.floor(rnd() * 20); // ~ 15 ms of event time per record
    const unit = `unit-${Math.floor(rnd() * opts.units)}`;
    const p = partitionOf(unit, opts.partitions);
    const r = rnd();
    if (r < 0.03) {
      if (rnd() < 0.7) resend(events[p]!);
      else resend(exposures[p]!);
      continue;
    }
    if (r < 0.12) {
      const exp = experiments[rnd() < 0.6 ? 0 : 1]!;
      const key = `${unit}|${exp}`;
      const variant = exposed.has(key) && rnd() < 0.1 ? 'B' : partitionOf(key, 2) === 0 ? 'A' : 'B';
      exposed.add(key);
      // Exposure time trails the stream by up to 3 s: sometimes beyond the reorder allowance.
      const ts = clock - Math.floor(rnd() * 3_000);
      exposures[p]!.push({
        messageId: `x-${i}`,
        unitId: unit,
        experimentKey: exp,
        variationId: variant,
        timestamp: ts,
        receivedAt: clock,
        origin: 'kafka',
        attributes: null,
      });
    } else {
      const late = rnd() < 0.01;
      const ts = late ? clock - 15_000 - Math.floor(rnd() * 15_000) : clock - Math.floor(rnd() * 1_500);
      const name = rnd() < 0.7 ? 'view' : 'purchase';
      events[p]!.push({
        messageId: `e-${i}`,
        type: 'track',
        event: name,
        userId: unit,
        anonymousId: null,
        unitId: unit,
        timestamp: ts,
        originalTimestamp: null,
        sentAt: null,
        receivedAt: clock,
        ...(() => {
          const value = name === 'purchase' ? 1 + Math.floor(rnd() * 50) : null;
          return { value, properties: value === null ? '{}' : JSON.stringify({ value }) };
        })(),
        traits: null,
        context: '{}',
        sourceId: null,
      });
      n++;
      if (opts.poison && n % opts.poison === 0) events[p]!.push(null);
    }
  }
  return { events, exposures, experiments, count: n };
}

export function experimentChange(key: string, sequence: number): RegistryChange {
  return {
    sequence,
    entityType: 'experiment',
    key,
    version: 1,
    action: 'transitioned:running',
    actor: 'test',
    changedAt: T0,
    snapshot: JSON.stringify({
      key,
      status: 'running',
      attributionWindowHours: 72,
      primaryMetrics: [],
      guardrailMetrics: [],
      phases: [
        {
          number: 1,
          startedAt: new Date(key === 'exp-b' ? EXP_B_START : T0 - 3_600_000).toISOString(),
          endedAt: null,
        },
      ],
    }),
  };
}

export const GARBAGE = Buffer.from('{"not":"avro"}');
export const UNKNOWN_SCHEMA = Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0, 1, 2, 3]);

/** A Kafka client, admin and serde for the topics of one isolated environment. */
export class TestKafka {
  kafka: Kafka;
  admin: Admin;
  serde!: AvroSerde;
  names: ReturnType<typeof topicNames>;
  private producer: Producer | undefined;
  private consumers: Consumer[] = [];

  constructor(readonly env: Record<string, string>) {
    this.kafka = createKafka({ clientId: 'enricher-test', brokers: stack.kafkaBrokers, logger });
    this.admin = this.kafka.admin();
    const config = loadEnricherConfig(env);
    this.names = topicNames(config);
    this.specs = enricherTopicSpecs(config, this.names);
  }
  private specs: ReturnType<typeof enricherTopicSpecs>;

  async setup(): Promise<void> {
    await this.admin.connect();
    await ensureTopics(this.admin, [
      ...this.specs.avro,
      this.specs.changelog as TopicSpec,
      this.specs.decisions as TopicSpec,
    ]);
    this.serde = await AvroSerde.create(stack.schemaRegistryUrl, this.specs.avro);
    this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await this.producer.connect();
  }

  /**
   * Produces the workload in `slices` rounds `pauseMs` apart (each
   * round a contiguous share of every partition of both inputs), so a run can be disturbed
   * while input still arrives. Offsets per partition follow the workload's order either way.
   */
  async produceRegistry(registry: RegistryChange[]): Promise<void> {
    await this.producer!.send({
      topic: this.names.registry,
      acks: -1,
      messages: registry.map((c) => ({
        key: `experiment:${c.key}`,
        value: this.serde.encode(this.names.registry, c),
      })),
    });
  }

  async produceWorkload(w: Workload, slices = 1, pauseMs = 0): Promise<void> {
    const producer = this.producer!;
    let poison = 0;
    const encodeEvent = (e: TrackingEvent | null) =>
      e ? this.serde.encode(this.names.raw, e) : poison++ % 2 === 0 ? GARBAGE : UNKNOWN_SCHEMA;
    const chunks: Array<{ topic: string; messages: { key: string; value: Buffer; partition: number }[] }> =
      [];
    for (let p = 0; p < w.events.length; p++) {
      chunks.push({
        topic: this.names.raw,
        messages: w.events[p]!.map((e) => ({
          key: e?.unitId ?? 'poison',
          value: encodeEvent(e),
          partition: p,
        })),
      });
      chunks.push({
        topic: this.names.exposures,
        messages: w.exposures[p]!.map((x) => ({
          key: x!.unitId,
          value: this.serde.encode(this.names.exposures, x),
          partition: p,
        })),
      });
    }
    for (let k = 0; k < slices; k++) {
      for (const { topic, messages } of chunks) {
        const from = Math.floor((messages.length * k) / slices);
        const to = Math.floor((messages.length * (k + 1)) / slices);
        for (let i = from; i < to; i += 5_000) {
          await producer.send({ topic, acks: -1, messages: messages.slice(i, Math.min(to, i + 5_000)) });
        }
      }
      if (pauseMs > 0 && k < slices - 1) await new Promise((r) => setTimeout(r, pauseMs));
    }
  }

  /** Reads an output topic read_committed from the beginning, decoding every record. */
  async collect<T>(topic: string): Promise<{ records: T[]; stop: () => Promise<void> }> {
    const records: T[] = [];
    const consumer = this.kafka.consumer({
      groupId: uniqueName('enricher-test-reader'),
      readUncommitted: false,
    });
    this.consumers.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) records.push(await this.serde.decode<T>(topic, m.value));
      },
    });
    return { records, stop: () => consumer.disconnect() };
  }

  /** Runs `fn` at close, before the topics are deleted (a reader of one's own). */
  onClose(fn: () => Promise<void>): void {
    this.closers.push(fn);
  }
  private closers: Array<() => Promise<void>> = [];

  async close(): Promise<void> {
    await Promise.all(this.closers.map((fn) => fn().catch(() => undefined)));
    await Promise.all(this.consumers.map((c) => c.disconnect().catch(() => undefined)));
    await this.producer?.disconnect();
    const topics = Object.values(this.names);
    await this.admin.deleteTopics({ topics }).catch(() => undefined);
    await this.admin.disconnect();
  }
}

export async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

// ---- the reference, written from docs/enricher.md independently of the enricher's code ----

export interface Reference {
  enriched: string[];
  late: string[];
  aggregates: string[];
  /** messageIds on the clean topics: `e:<id>` for events, `x:<id>|<phase>|<inRunningPhase>` for exposures. */
  clean: string[];
}

export const enrichedKey = (e: EnrichedEvent) =>
  `${e.eventId}|${e.experimentKey}|${e.variationId}|${e.exposedAt}|${e.multipleVariants}|${e.late}|${e.sourcePartition}|${e.sourceOffset}`;
export const aggregateKey = (a: WindowAggregate) =>
  `${a.partition}|${a.experimentKey}|${a.variationId}|${a.metric}|${a.windowStart}|${a.windowEnd}|${a.events}|${a.units}|${a.valueSum}|${a.valueSumSquares}|${a.exposedUnits}`;

/**
 * Per partition: exposures and events merge in the order "release the next event once the
 * highest exposure time applied exceeds its time by more than the reorder allowance, else
 * apply the next exposure; at the end of one input the other goes on alone". Experiments here
 * run throughout (one phase, 72 h attribution, no metric list), so neither phases nor expiry
 * play a part.
 */
export function reference(w: Workload, s: Settings): Reference {
  const out: Reference = { enriched: [], late: [], aggregates: [], clean: [] };
  const started = (exp: string) => (exp === 'exp-b' ? EXP_B_START : -Infinity);
  for (let p = 0; p < w.events.length; p++) {
    const evs = w.events[p]!.flatMap((e, offset) => (e ? [{ e, offset }] : []));
    const xps = w.exposures[p]!.filter((x): x is Exposure => x !== null);
    // Copies take their turn in the merge and are dropped when they come up (the horizon, 24 h
    // of arrival time, spans the whole run): they change neither time nor state.
    const seenEvents = new Set<string>();
    const seenExposures = new Set<string>();
    const seen = new Map<string, Map<string, number>>(); // unit|exp -> variant -> first time
    const wins = new Map<string, WindowAggregate>();
    const counted = new Set<string>();
    let frontier = -Infinity;
    let streamTime = -Infinity;
    const win = (exp: string, v: string, metric: string | null, ts: number) => {
      const start = Math.floor(ts / s.windowMs) * s.windowMs;
      const key = `${exp}|${v}|${metric}|${start}`;
      let a = wins.get(key);
      if (!a) {
        a = {
          experimentKey: exp,
          variationId: v,
          metric,
          windowStart: start,
          windowEnd: start + s.windowMs,
          events: 0,
          units: 0,
          valueSum: 0,
          valueSumSquares: 0,
          exposedUnits: 0,
          partition: p,
        };
        wins.set(key, a);
      }
      return a;
    };
    const closed = (ts: number) =>
      Math.floor(ts / s.windowMs) * s.windowMs + s.windowMs <= streamTime - s.graceMs;
    let i = 0;
    let j = 0;
    while (i < evs.length || j < xps.length) {
      if (i < evs.length && (j >= xps.length || frontier > evs[i]!.e.timestamp + s.reorderMs)) {
        const { e, offset } = evs[i++]!;
        if (seenEvents.has(e.messageId)) continue;
        seenEvents.add(e.messageId);
        out.clean.push(`e:${e.messageId}`);
        streamTime = Math.max(streamTime, e.timestamp);
        const late = closed(e.timestamp);
        for (const exp of w.experiments) {
          const variants = seen.get(`${e.unitId}|${exp}`);
          if (!variants) continue;
          const [variant, at] = [...variants].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))[0]!;
          if (at > e.timestamp || e.timestamp >= at + 72 * 3_600_000) continue;
          const multi = variants.size > 1;
          const rec = `${e.messageId}|${exp}|${variant}|${at}|${multi}|${late}|${p}|${offset}`;
          out.enriched.push(rec);
          if (late) out.late.push(rec);
          if (late || multi) continue;
          const a = win(exp, variant, e.event, e.timestamp);
          const v = e.value ?? 0;
          a.events++;
          a.valueSum += v;
          a.valueSumSquares += v * v;
          const u = `${exp}|${variant}|${e.event}|${a.windowStart}|${e.unitId}`;
          if (!counted.has(u)) {
            counted.add(u);
            a.units++;
          }
        }
      } else {
        const x = xps[j++]!;
        if (seenExposures.has(x.messageId)) continue;
        seenExposures.add(x.messageId);
        streamTime = Math.max(streamTime, x.timestamp);
        frontier = Math.max(frontier, x.timestamp);
        const inPhase = x.timestamp >= started(x.experimentKey);
        out.clean.push(`x:${x.messageId}|${inPhase ? 1 : null}|${inPhase}`);
        if (inPhase) {
          // (Before the phase an exposure creates no assignment.)
          const key = `${x.unitId}|${x.experimentKey}`;
          let variants = seen.get(key);
          const isNew = !variants;
          if (!variants) seen.set(key, (variants = new Map()));
          variants.set(x.variationId, Math.min(variants.get(x.variationId) ?? Infinity, x.timestamp));
          if (isNew && !closed(x.timestamp))
            win(x.experimentKey, x.variationId, null, x.timestamp).exposedUnits++;
        }
      }
      for (const [key, a] of wins) {
        if (a.windowEnd <= streamTime - s.graceMs) {
          out.aggregates.push(aggregateKey(a));
          wins.delete(key);
        }
      }
    }
  }
  for (const list of Object.values(out)) list.sort();
  return out;
}

// ---- a whole scenario ----

export interface ScenarioOptions {
  main: string;
  name: string;
  events: number;
  poison?: number;
  instances: number;
  /** Called once the enricher is running; disturbs it (kills, extra instances). */
  disturb?: (procs: EnricherProcess[], start: (i: number) => void, progress: () => number) => Promise<void>;
  timeoutMs: number;
  /** Feed the input while the enricher runs, in this many rounds 500 ms apart (default: all before). */
  slices?: number;
}

/** Runs the enricher over a generated workload (optionally disturbed) and collects its outputs read_committed. */
export async function runEnricherScenario(opts: ScenarioOptions) {
  const env = isolatedEnv(opts.name);
  const tk = new TestKafka(env);
  const procs = Array.from({ length: opts.instances }, () => new EnricherProcess(opts.main, env));
  try {
    await tk.setup();
    const workload = generateWorkload({
      events: opts.events,
      units: Math.max(50, Math.floor(opts.events / 40)),
      partitions: SETTINGS.partitions,
      poison: opts.poison,
    });
    const expected = reference(workload, SETTINGS);
    await tk.produceRegistry(workload.experiments.map((k, i) => experimentChange(k, i + 1)));
    let feeding: Promise<void> = Promise.resolve();
    if (opts.slices) feeding = tk.produceWorkload(workload, opts.slices, 500);
    else await tk.produceWorkload(workload);

    const enriched = await tk.collect<EnrichedEvent>(tk.names.enriched);
    const aggregates = await tk.collect<WindowAggregate>(tk.names.aggregates);
    const late = await tk.collect<EnrichedEvent>(tk.names.late);
    const failed = await tk.collect<FailedEvent>(tk.names.failed);
    const cleanEvents = await tk.collect<TrackingEvent>(tk.names.cleanEvents);
    const cleanExposures = await tk.collect<Exposure>(tk.names.cleanExposures);

    procs[0]!.start();
    // Fraction of the expected enriched events already committed.
    const progress = () => enriched.records.length / expected.enriched.length;
    await opts.disturb?.(procs, (i) => procs[i]!.start(), progress);
    await feeding;
    await waitFor(
      () =>
        enriched.records.length >= expected.enriched.length &&
        aggregates.records.length >= expected.aggregates.length &&
        cleanEvents.records.length + cleanExposures.records.length >= expected.clean.length,
      opts.timeoutMs,
      `outputs (enriched ${enriched.records.length}/${expected.enriched.length}, aggregates ${aggregates.records.length}/${expected.aggregates.length}); enricher stderr: ${procs.map((p) => p.output).join('\n')}`,
    );
    // Anything duplicated would arrive shortly after; give it the time to.
    await new Promise((r) => setTimeout(r, 3_000));
    return {
      expected,
      enriched: enriched.records,
      aggregates: aggregates.records,
      late: late.records,
      failed: failed.records,
      cleanEvents: cleanEvents.records,
      cleanExposures: cleanExposures.records,
      procs,
      workload,
    };
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
    await tk.close();
  }
}

/** The outputs in the reference's form (sorted keys), for comparing with `expected`. */
export function actualOutputs(r: Awaited<ReturnType<typeof runEnricherScenario>>): Reference {
  return {
    enriched: r.enriched.map(enrichedKey).sort(),
    late: r.late.map(enrichedKey).sort(),
    aggregates: r.aggregates.map(aggregateKey).sort(),
    clean: [
      ...r.cleanEvents.map((e) => `e:${e.messageId}`),
      ...r.cleanExposures.map((x) => `x:${x.messageId}|${x.phase}|${x.inRunningPhase}`),
    ].sort(),
  };
}

export type { EnrichedEvent, FailedEvent, WindowAggregate };
