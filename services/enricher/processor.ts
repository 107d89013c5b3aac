// The deterministic core of one input partition: merges the partition's raw events and
// exposures in an order that depends only on the input records, drops copies (dedupe.ts),
// publishes the clean records, joins, windows, and tracks the state changes the changelog must
// carry. No I/O: task.ts feeds it records and commits what it
// produced in one Kafka transaction.
//
// Merge rule (docs/enricher.md): each stream is consumed in offset order. Let `frontier` be the
// highest exposure time applied so far. The next event e is released once
// frontier > e.timestamp + reorderMs, i.e. once the exposure stream has moved past the event
// by more than the reorder allowance; until then the next exposure is applied first. When one
// stream is idle (fully read and quiet for a while) the other proceeds alone. When both are,
// stream time may advance to the wall clock so quiet windows close (`advanceIdle`); that
// decision is recorded with its input positions. Every decision is a function of the two record
// sequences plus the recorded idleness decisions, so a replay from any committed point makes the
// same decisions as a clean run.

import type { EnrichedEvent, Exposure, FailedEvent, TrackingEvent, WindowAggregate } from '../common/records';
import { AssignmentStore, assignmentKey, isMultiVariant, type Assignment } from './assignments';
import { phaseAt, type ExperimentLookup } from './experiments';
import { DedupeStore, type DedupeInput } from './dedupe';
import { attribute } from './join';
import { WindowStore, isLate, watermarkOf, windowStart, type Accumulator, type WindowSpec } from './windows';

/** "No time yet": below any real timestamp, and still safe to subtract a grace period from. */
export const NO_TIME = -8_640_000_000_000_000;

export interface ProcessorOptions {
  partition: number;
  windows: WindowSpec;
  /** How far an exposure may trail the exposure stream's progress and still count for earlier events. */
  reorderMs: number;
  /** How long after its first copy arrived (receivedAt) a messageId is remembered. */
  dedupeHorizonMs: number;
  topics: { events: string; exposures: string };
}

/** A record read from an input: decoded, or the reason it could not be. */
export type Polled<T> =
  | { offset: number; value: T }
  | { offset: number; failure: { payload: Buffer | null; code: string; message: string; at: number } };

/** Positions and clocks of the partition, persisted with the state. */
export interface Meta {
  /** Next offset to process on each input: what the transaction commits for the group. */
  eventsNext: number;
  exposuresNext: number;
  /** Highest exposure time applied. */
  frontier: number;
  /** Highest record time processed (events and exposures); watermark = streamTime - grace. */
  streamTime: number;
  /** Highest receivedAt processed: the dedupe horizon's clock. */
  arrivalTime: number;
}

/** An idle partition's stream time moved to the wall clock, at these input positions. */
export interface IdleDecision {
  partition: number;
  eventsNext: number;
  exposuresNext: number;
  streamTime: number;
}

export type Output =
  | { kind: 'event'; value: TrackingEvent }
  | { kind: 'exposure'; value: Exposure }
  | { kind: 'enriched' | 'late'; value: EnrichedEvent }
  | { kind: 'aggregate'; value: WindowAggregate }
  | { kind: 'failed'; value: FailedEvent };

export interface ChangelogRecord {
  key: string;
  /** JSON text; null is a tombstone. */
  value: string | null;
}

export interface Counters {
  events: number;
  exposures: number;
  duplicateEvents: number;
  duplicateExposures: number;
  idleAdvances: number;
  joined: number;
  lateEvents: number;
  lateExposures: number;
  multiVariantUnits: number;
  unknownExperiment: number;
  notRunning: number;
  expired: number;
  failed: number;
  windowsEmitted: number;
}

const META_KEY = JSON.stringify(['m']);

const zeroCounters = (): Counters => ({
  events: 0,
  exposures: 0,
  duplicateEvents: 0,
  duplicateExposures: 0,
  idleAdvances: 0,
  joined: 0,
  lateEvents: 0,
  lateExposures: 0,
  multiVariantUnits: 0,
  unknownExperiment: 0,
  notRunning: 0,
  expired: 0,
  failed: 0,
  windowsEmitted: 0,
});

/** A FIFO that does not shift arrays on every take. */
class Queue<T> {
  private items: T[] = [];
  private head = 0;
  get length(): number {
    return this.items.length - this.head;
  }
  push(item: T): void {
    this.items.push(item);
  }
  peek(): T | undefined {
    return this.items[this.head];
  }
  take(): void {
    this.items[this.head++] = undefined as T;
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}

export class PartitionProcessor {
  readonly meta: Meta;
  readonly store = new AssignmentStore();
  readonly windows: WindowStore;
  readonly seen: DedupeStore;
  counters = zeroCounters();
  private readonly events = new Queue<Polled<TrackingEvent>>();
  private readonly exposures = new Queue<Polled<Exposure>>();
  private eventsQueuedNext: number;
  private exposuresQueuedNext: number;
  private outputs: Output[] = [];
  private dirty = new Map<string, Assignment | Accumulator | null>();
  private lastBoundary: number;

  constructor(
    private readonly opts: ProcessorOptions,
    private readonly experiments: ExperimentLookup,
    restored: ChangelogRecord[] = [],
  ) {
    this.windows = new WindowStore(opts.windows);
    this.seen = new DedupeStore(opts.dedupeHorizonMs);
    this.meta = {
      eventsNext: 0,
      exposuresNext: 0,
      frontier: NO_TIME,
      streamTime: NO_TIME,
      arrivalTime: NO_TIME,
    };
    for (const rec of restored) this.restore(rec);
    this.eventsQueuedNext = this.meta.eventsNext;
    this.exposuresQueuedNext = this.meta.exposuresNext;
    this.lastBoundary = this.boundary();
  }

  /** Records held, waiting for the merge (for backpressure). */
  get held(): { events: number; exposures: number } {
    return { events: this.events.length, exposures: this.exposures.length };
  }

  /** Next offset expected on each input (everything before it is queued or processed). */
  get queued(): { events: number; exposures: number } {
    return { events: this.eventsQueuedNext, exposures: this.exposuresQueuedNext };
  }

  /** Queues an event; false when the offset was already queued or processed (a re-delivery). */
  pushEvent(rec: Polled<TrackingEvent>): boolean {
    if (rec.offset < this.eventsQueuedNext) return false;
    this.events.push(rec);
    this.eventsQueuedNext = rec.offset + 1;
    return true;
  }

  pushExposure(rec: Polled<Exposure>): boolean {
    if (rec.offset < this.exposuresQueuedNext) return false;
    this.exposures.push(rec);
    this.exposuresQueuedNext = rec.offset + 1;
    return true;
  }

  /**
   * Runs the merge as far as the rule allows. `idle` says which inputs are fully read and quiet:
   * an idle exposure stream lets held events go, an idle event stream lets exposures apply.
   * Stops after `maxSteps` records (so one transaction stays below the broker's size limits);
   * returns the number of records processed.
   */
  run(
    idle: { events: boolean; exposures: boolean } = { events: false, exposures: false },
    maxSteps = Infinity,
  ): number {
    let steps = 0;
    while (steps < maxSteps) {
      const e = this.events.peek();
      const x = this.exposures.peek();
      if (e && 'failure' in e) {
        this.fail(this.opts.topics.events, e);
        this.events.take();
        this.meta.eventsNext = e.offset + 1;
      } else if (x && 'failure' in x) {
        this.fail(this.opts.topics.exposures, x);
        this.exposures.take();
        this.meta.exposuresNext = x.offset + 1;
      } else if (
        e &&
        (this.meta.frontier > e.value.timestamp + this.opts.reorderMs || (!x && idle.exposures))
      ) {
        this.release(e.value, e.offset);
        this.events.take();
        this.meta.eventsNext = e.offset + 1;
      } else if (x && (e || idle.events)) {
        this.apply(x.value);
        this.exposures.take();
        this.meta.exposuresNext = x.offset + 1;
      } else {
        return steps;
      }
      steps++;
      this.afterStep();
    }
    return steps;
  }

  /** Outputs and changelog records produced since the last call, for one transaction. */
  drain(): { outputs: Output[]; changelog: ChangelogRecord[] } {
    const changelog: ChangelogRecord[] = [];
    for (const [key, value] of this.dirty) {
      changelog.push({ key, value: value === null ? null : JSON.stringify(value) });
    }
    changelog.push(...this.seen.changelog());
    changelog.push({ key: META_KEY, value: JSON.stringify(this.meta) });
    const outputs = this.outputs;
    this.outputs = [];
    this.dirty = new Map();
    return { outputs, changelog };
  }

  private fail(topic: string, rec: Extract<Polled<unknown>, { failure: unknown }>): void {
    this.counters.failed++;
    const { failure, offset } = rec;
    this.outputs.push({
      kind: 'failed',
      value: {
        // Deterministic: a replay of the same record produces the same failure id.
        failureId: `enricher:${topic}:${this.opts.partition}:${offset}`,
        stage: 'enricher',
        failedAt: failure.at,
        messageId: null,
        payload: failure.payload ?? Buffer.alloc(0),
        reasons: [{ code: failure.code, path: '', message: failure.message }],
        sourceId: null,
        sourceTopic: topic,
        sourcePartition: this.opts.partition,
        sourceOffset: offset,
      },
    });
  }

  private apply(x: Exposure): void {
    if (this.isCopy('x', x.messageId, x.receivedAt)) {
      this.counters.duplicateExposures++;
      return;
    }
    this.counters.exposures++;
    this.advance(x.timestamp);
    if (x.timestamp > this.meta.frontier) this.meta.frontier = x.timestamp;
    const exp = this.experiments.get(x.experimentKey);
    const phase = exp && phaseAt(exp, x.timestamp);
    this.outputs.push({
      kind: 'exposure',
      value: { ...x, phase: phase?.number ?? null, inRunningPhase: phase !== undefined },
    });
    if (!exp) {
      this.counters.unknownExperiment++;
      return;
    }
    if (!phase) {
      this.counters.notRunning++;
      return;
    }
    let a = this.store.get(x.unitId, x.experimentKey, phase.number);
    const isNew = !a;
    if (!a) {
      a = {
        unitId: x.unitId,
        experimentKey: x.experimentKey,
        phase: phase.number,
        variants: {},
        exposures: 0,
        lastSeen: x.timestamp,
        counted: [],
      };
      this.store.put(a);
    }
    const wasMulti = isMultiVariant(a);
    const seen = a.variants[x.variationId];
    if (seen === undefined || x.timestamp < seen) a.variants[x.variationId] = x.timestamp;
    a.exposures++;
    if (x.timestamp > a.lastSeen) a.lastSeen = x.timestamp;
    if (!wasMulti && isMultiVariant(a)) this.counters.multiVariantUnits++;
    this.touch(a);
    if (isNew) {
      // The exposure row counts units newly exposed, in the window of their first exposure.
      if (isLate(x.timestamp, this.meta.streamTime, this.opts.windows)) {
        this.counters.lateExposures++;
      } else {
        const [key, acc] = this.windows.get(
          x.experimentKey,
          x.variationId,
          null,
          windowStart(x.timestamp, this.opts.windows.sizeMs),
        );
        acc.exposedUnits++;
        this.dirty.set(key, acc);
      }
    }
  }

  private release(e: TrackingEvent, offset: number): void {
    if (this.isCopy('e', e.messageId, e.receivedAt)) {
      this.counters.duplicateEvents++;
      return;
    }
    this.counters.events++;
    this.advance(e.timestamp);
    this.outputs.push({ kind: 'event', value: e });
    if (e.event === null) return; // identify/group/alias: no metric to attribute
    const late = isLate(e.timestamp, this.meta.streamTime, this.opts.windows);
    if (late) this.counters.lateEvents++;
    const value = e.value ?? null;
    const start = windowStart(e.timestamp, this.opts.windows.sizeMs);
    for (const a of this.store.forUnit(e.unitId)) {
      const exp = this.experiments.get(a.experimentKey);
      if (!exp) continue;
      const at = attribute(a, exp, e.timestamp);
      if (!at) continue;
      this.counters.joined++;
      const enriched: EnrichedEvent = {
        eventId: e.messageId,
        unitId: e.unitId,
        event: e.event,
        value,
        timestamp: e.timestamp,
        experimentKey: a.experimentKey,
        variationId: at.variant,
        phase: at.phase,
        exposedAt: at.exposedAt,
        multipleVariants: at.multipleVariants,
        late,
        sourceTopic: this.opts.topics.events,
        sourcePartition: this.opts.partition,
        sourceOffset: offset,
      };
      this.outputs.push({ kind: 'enriched', value: enriched });
      if (late) this.outputs.push({ kind: 'late', value: enriched });
      if (e.timestamp > a.lastSeen) a.lastSeen = e.timestamp;
      if (!late && !at.multipleVariants && (exp.metrics === null || exp.metrics.has(e.event))) {
        const [key, acc] = this.windows.get(a.experimentKey, at.variant, e.event, start);
        const v = value ?? 0;
        acc.events++;
        acc.valueSum += v;
        acc.valueSumSquares += v * v;
        const mark = `${start}:${e.event}`;
        if (!a.counted.includes(mark)) {
          a.counted.push(mark);
          acc.units++;
        }
        this.dirty.set(key, acc);
      }
      this.touch(a);
    }
  }

  private advance(ts: number): void {
    if (ts > this.meta.streamTime) this.meta.streamTime = ts;
  }

  /** Dedupe: whether the record is a copy; remembers (and logs to the changelog) a first copy. */
  private isCopy(input: DedupeInput, id: string, receivedAt: number): boolean {
    if (receivedAt > this.meta.arrivalTime) this.meta.arrivalTime = receivedAt;
    if (this.seen.isCopy(input, id, this.meta.arrivalTime)) return true;
    this.seen.remember(input, id, receivedAt);
    return false;
  }

  /**
   * The partition is idle (both inputs fully read, nothing held, quiet for the idle timeout):
   * moves stream time to `now` when that closes a window, so a quiet experiment still gets its
   * last windows. Returns the decision to record with the outputs, or null when nothing closes.
   * Replaying the decision at the same input positions reproduces the same outputs.
   */
  advanceIdle(now: number): IdleDecision | null {
    if (now <= this.meta.streamTime || !this.windows.closesAny(watermarkOf(now, this.opts.windows.graceMs))) {
      return null;
    }
    this.meta.streamTime = now;
    this.counters.idleAdvances++;
    this.afterStep();
    return {
      partition: this.opts.partition,
      eventsNext: this.meta.eventsNext,
      exposuresNext: this.meta.exposuresNext,
      streamTime: now,
    };
  }

  private touch(a: Assignment): void {
    // Distinct-unit marks of closed windows are never needed again (late events are not aggregated).
    if (a.counted.length > 0) {
      const wm = watermarkOf(this.meta.streamTime, this.opts.windows.graceMs);
      const size = this.opts.windows.sizeMs;
      a.counted = a.counted.filter((m) => Number(m.slice(0, m.indexOf(':'))) + size > wm);
    }
    this.dirty.set(assignmentKey(a.unitId, a.experimentKey, a.phase), a);
  }

  /** Index of the window the watermark is in; windows close and state expires when it moves. */
  private boundary(): number {
    return Math.floor(
      watermarkOf(this.meta.streamTime, this.opts.windows.graceMs) / this.opts.windows.sizeMs,
    );
  }

  private afterStep(): void {
    for (const key of this.seen.expire(this.meta.arrivalTime)) this.dirty.set(key, null);
    const boundary = this.boundary();
    if (boundary === this.lastBoundary) return;
    this.lastBoundary = boundary;
    const wm = watermarkOf(this.meta.streamTime, this.opts.windows.graceMs);
    for (const [key, acc] of this.windows.close(wm)) {
      this.counters.windowsEmitted++;
      this.outputs.push({
        kind: 'aggregate',
        value: {
          experimentKey: acc.experimentKey,
          variationId: acc.variationId,
          metric: acc.metric,
          windowStart: acc.windowStart,
          windowEnd: acc.windowStart + this.opts.windows.sizeMs,
          events: acc.events,
          units: acc.units,
          valueSum: acc.valueSum,
          valueSumSquares: acc.valueSumSquares,
          exposedUnits: acc.exposedUnits,
          partition: this.opts.partition,
        },
      });
      this.dirty.set(key, null);
    }
    // Expiry after the attribution window of inactivity, judged on the watermark (event time).
    const expired: Assignment[] = [];
    for (const a of this.store.all()) {
      const exp = this.experiments.get(a.experimentKey);
      if (!exp || a.lastSeen + exp.attributionWindowMs <= wm) expired.push(a);
    }
    for (const a of expired) {
      this.store.delete(a);
      this.dirty.set(assignmentKey(a.unitId, a.experimentKey, a.phase), null);
      this.counters.expired++;
    }
  }

  private restore(rec: ChangelogRecord): void {
    const key = JSON.parse(rec.key) as [string, ...unknown[]];
    if (key[0] === 'd') return this.seen.restore(rec.key, rec.value);
    if (rec.value === null) {
      if (key[0] === 'a') {
        const [, unitId, experimentKey, phase] = key as [string, string, string, number];
        const a = this.store.get(unitId, experimentKey, phase);
        if (a) this.store.delete(a);
      } else if (key[0] === 'w') {
        this.windows.remove(rec.key);
      }
      return;
    }
    const value = JSON.parse(rec.value) as unknown;
    if (key[0] === 'm') Object.assign(this.meta, value as Meta);
    else if (key[0] === 'a') this.store.put(value as Assignment);
    else if (key[0] === 'w') this.windows.restore(value as Accumulator);
  }
}
