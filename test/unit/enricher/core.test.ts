import type { Exposure, TrackingEvent } from '../../../services/common/records';
import {
  ExperimentTable,
  parseExperiment,
  phaseAt,
  type ExperimentView,
} from '../../../services/enricher/experiments';
import { attribute } from '../../../services/enricher/join';
import { BATCH_IDS, DedupeStore } from '../../../services/enricher/dedupe';
import { firstExposure, type Assignment } from '../../../services/enricher/assignments';
import { WindowStore, isLate, windowStart } from '../../../services/enricher/windows';
import {
  PartitionProcessor,
  type ChangelogRecord,
  type Output,
  type ProcessorOptions,
} from '../../../services/enricher/processor';

const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;

function experiment(over: Partial<ExperimentView> = {}): ExperimentView {
  return {
    key: 'exp',
    status: 'running',
    phases: [{ number: 1, start: T0, end: null }],
    attributionWindowMs: 10 * MIN,
    metrics: null,
    ...over,
  };
}

function assignment(variants: Record<string, number>, phase = 1): Assignment {
  return { unitId: 'u', experimentKey: 'exp', phase, variants, exposures: 1, lastSeen: 0, counted: [] };
}

describe('experiment table', () => {
  const snapshot = (over: Record<string, unknown> = {}) =>
    JSON.stringify({
      key: 'checkout',
      status: 'running',
      attributionWindowHours: 2,
      primaryMetrics: [{ event: 'Order Completed', aggregation: 'sum' }],
      guardrailMetrics: [],
      phases: [
        { number: 1, startedAt: '2026-01-01T00:00:00Z', endedAt: '2026-01-02T00:00:00Z' },
        { number: 2, startedAt: '2026-01-03T00:00:00Z', endedAt: null },
      ],
      ...over,
    });

  it('reads the registry snapshot fields the enricher needs', () => {
    const exp = parseExperiment(snapshot());
    expect(exp.attributionWindowMs).toBe(2 * 3_600_000);
    expect([...exp.metrics!]).toEqual(['Order Completed']);
    expect(phaseAt(exp, T0 + 1)?.number).toBe(1);
    expect(phaseAt(exp, T0 + 36 * 3_600_000)).toBeUndefined(); // between phases: not running
    expect(phaseAt(exp, T0 + 50 * 3_600_000)?.number).toBe(2);
    expect(phaseAt(exp, T0 - 1)).toBeUndefined();
  });

  it('applies changes in sequence order, drops re-deliveries and honours deletes', () => {
    const table = new ExperimentTable();
    const change = (sequence: number, snap: string | null) => ({
      sequence,
      entityType: 'experiment' as const,
      key: 'checkout',
      version: sequence,
      action: 'updated',
      actor: 't',
      changedAt: 0,
      snapshot: snap,
    });
    expect(table.apply(change(2, snapshot({ attributionWindowHours: 5 })))).toBe(true);
    expect(table.apply(change(1, snapshot()))).toBe(false);
    expect(table.get('checkout')!.attributionWindowMs).toBe(5 * 3_600_000);
    expect(table.apply({ ...change(3, null), entityType: 'flag' })).toBe(false);
    expect(table.apply(change(3, null))).toBe(true);
    expect(table.get('checkout')).toBeUndefined();
  });
});

describe('join rule', () => {
  const exp = experiment();

  it('attributes events at or after the first exposure, within the attribution window', () => {
    const a = assignment({ A: T0 + MIN });
    expect(attribute(a, exp, T0 + MIN - 1)).toBeNull(); // before exposure
    expect(attribute(a, exp, T0 + MIN)).toMatchObject({
      variant: 'A',
      exposedAt: T0 + MIN,
      multipleVariants: false,
    });
    expect(attribute(a, exp, T0 + 11 * MIN - 1)).not.toBeNull();
    expect(attribute(a, exp, T0 + 11 * MIN)).toBeNull(); // window over
  });

  it('first exposure wins and a second variant marks the unit', () => {
    const a = assignment({ B: T0 + 2 * MIN, A: T0 + MIN });
    expect(firstExposure(a)).toEqual({ variant: 'A', at: T0 + MIN });
    expect(attribute(a, exp, T0 + 3 * MIN)).toMatchObject({ variant: 'A', multipleVariants: true });
    // Ties are broken by variant id, so the outcome never depends on arrival order.
    expect(firstExposure(assignment({ Z: T0, Y: T0 })).variant).toBe('Y');
  });

  it('attributes only while the experiment runs, in the exposure phase', () => {
    const stopped = experiment({ phases: [{ number: 1, start: T0, end: T0 + 5 * MIN }] });
    const a = assignment({ A: T0 + MIN });
    expect(attribute(a, stopped, T0 + 4 * MIN)).not.toBeNull();
    expect(attribute(a, stopped, T0 + 6 * MIN)).toBeNull();
    const rephased = experiment({
      phases: [
        { number: 1, start: T0, end: T0 + 5 * MIN },
        { number: 2, start: T0 + 5 * MIN, end: null },
      ],
    });
    expect(attribute(a, rephased, T0 + 6 * MIN)).toBeNull(); // new phase re-randomises
  });
});

describe('dedupe store', () => {
  const bucket = (t: number) => Math.floor(t / MIN);

  it('remembers an id for the horizon after its first copy arrived, then reclaims it', () => {
    const d = new DedupeStore(10 * MIN);
    d.remember('e', 'm1', T0);
    expect(d.changelog()).toEqual([
      { key: JSON.stringify(['d', 'e', bucket(T0), 'm1']), value: `[["m1",${T0}]]` },
    ]);
    expect(d.isCopy('e', 'm1', T0 + 10 * MIN - 1)).toBe(true);
    expect(d.isCopy('x', 'm1', T0)).toBe(false); // exposures are another namespace
    expect(d.isCopy('e', 'm1', T0 + 10 * MIN)).toBe(false); // past the horizon, even before the sweep
    expect(d.expire(T0 + 10 * MIN)).toEqual([]); // its bucket is not wholly past the horizon yet
    expect(d.expire(T0 + 11 * MIN)).toEqual([JSON.stringify(['d', 'e', bucket(T0), 'm1'])]);
    expect(d.size).toBe(0);
  });

  it('writes one changelog record per input, bucket and step, split at BATCH_IDS ids', () => {
    const d = new DedupeStore(10 * MIN);
    for (let i = 0; i < BATCH_IDS + 5; i++) d.remember('e', `e${i}`, T0 + i);
    d.remember('e', 'next-bucket', T0 + MIN);
    d.remember('x', 'x1', T0);
    const records = d.changelog();
    expect(records.map((r) => [JSON.parse(r.key), (JSON.parse(r.value!) as unknown[]).length])).toEqual([
      [['d', 'e', bucket(T0), 'e0'], BATCH_IDS],
      [['d', 'e', bucket(T0), `e${BATCH_IDS}`], 5],
      [['d', 'e', bucket(T0 + MIN), 'next-bucket'], 1],
      [['d', 'x', bucket(T0), 'x1'], 1],
    ]);
    expect(d.changelog()).toEqual([]); // written once
    // A store restored from those records decides the same, and tombstones the same keys.
    const r = new DedupeStore(10 * MIN);
    for (const rec of records) r.restore(rec.key, rec.value);
    expect(r.isCopy('e', `e${BATCH_IDS + 4}`, T0 + MIN)).toBe(true);
    expect(r.isCopy('x', 'x1', T0 + MIN)).toBe(true);
    expect(r.changelog()).toEqual([]);
    expect(r.expire(T0 + 11 * MIN).sort()).toEqual(
      records
        .slice(0, 2)
        .map((x) => x.key)
        .concat(records[3]!.key)
        .sort(),
    );
    expect(r.expire(T0 + 12 * MIN)).toEqual([records[2]!.key]);
    expect(r.size).toBe(0);
  });

  it('restores and tombstones the older per-id records, and does not reclaim an id remembered again later', () => {
    const d = new DedupeStore(MIN);
    const old = (id: string) => JSON.stringify(['d', 'e', id]);
    d.restore(old('a'), String(T0));
    d.restore(old('b'), String(T0));
    d.restore(old('a'), null); // tombstone of the older form
    expect(d.isCopy('e', 'a', T0 + 1)).toBe(false);
    expect(d.isCopy('e', 'b', T0 + 1)).toBe(true);
    d.remember('e', 'b', T0 + 5 * MIN); // past its horizon: a new first copy
    expect(d.expire(T0 + 3 * MIN).sort()).toEqual([old('a'), old('b')].sort());
    expect(d.isCopy('e', 'b', T0 + 5 * MIN)).toBe(true);
  });
});

describe('windows', () => {
  const spec = { sizeMs: MIN, graceMs: 30_000 };

  it('aligns tumbling windows and judges lateness on stream time minus grace', () => {
    expect(windowStart(T0 + 59_999, MIN)).toBe(T0);
    expect(windowStart(T0 + MIN, MIN)).toBe(T0 + MIN);
    // Window [T0, T0+1m) closes when stream time reaches T0+1m30s.
    expect(isLate(T0 + 10, T0 + MIN + 29_999, spec)).toBe(false);
    expect(isLate(T0 + 10, T0 + MIN + 30_000, spec)).toBe(true);
  });

  it('emits each window once, final, in a fixed order', () => {
    const store = new WindowStore(spec);
    store.get('e', 'B', 'm', T0)[1].events++;
    store.get('e', 'A', 'm', T0)[1].events++;
    store.get('e', 'A', 'm', T0 + MIN)[1].events++;
    expect(store.close(T0 + MIN - 1)).toEqual([]);
    const closed = store.close(T0 + MIN);
    expect(closed.map(([, a]) => a.variationId)).toEqual(['A', 'B']);
    expect(store.close(T0 + MIN)).toEqual([]);
    expect(store.size).toBe(1);
  });
});

// ---- the partition processor ----

const topics = { events: 'raw', exposures: 'exp' };
const opts: ProcessorOptions = {
  partition: 0,
  windows: { sizeMs: MIN, graceMs: 30_000 },
  reorderMs: 5_000,
  dedupeHorizonMs: 10 * MIN,
  topics,
};

function ev(id: string, unitId: string, ts: number, event = 'click', value?: number): TrackingEvent {
  return {
    messageId: id,
    type: 'track',
    event,
    userId: unitId,
    anonymousId: null,
    unitId,
    timestamp: ts,
    originalTimestamp: null,
    sentAt: null,
    receivedAt: ts,
    value: value ?? null,
    properties: value === undefined ? '{}' : JSON.stringify({ value }),
    traits: null,
    context: '{}',
    sourceId: null,
  };
}

function xp(id: string, unitId: string, ts: number, variant = 'A', experimentKey = 'exp'): Exposure {
  return {
    messageId: id,
    unitId,
    experimentKey,
    variationId: variant,
    timestamp: ts,
    receivedAt: ts,
    origin: 'kafka',
    attributes: null,
  };
}

function table(...exps: ExperimentView[]) {
  const m = new Map(exps.map((e) => [e.key, e]));
  return { get: (k: string) => m.get(k) };
}

const ENDED = { events: true, exposures: true };

function runAll(events: TrackingEvent[], exposures: Exposure[], exps = table(experiment())): Output[] {
  const p = new PartitionProcessor(opts, exps);
  events.forEach((value, offset) => p.pushEvent({ offset, value }));
  exposures.forEach((value, offset) => p.pushExposure({ offset, value }));
  p.run();
  p.run(ENDED);
  return p.drain().outputs;
}

const enriched = (out: Output[]) => out.flatMap((o) => (o.kind === 'enriched' ? [o.value] : []));
const aggregates = (out: Output[]) => out.flatMap((o) => (o.kind === 'aggregate' ? [o.value] : []));

describe('partition processor', () => {
  it('joins events with earlier exposures and ignores events before exposure', () => {
    const out = runAll(
      [ev('e1', 'u1', T0 + 1_000), ev('e2', 'u1', T0 + 3_000), ev('e3', 'u2', T0 + 3_000)],
      [xp('x1', 'u1', T0 + 2_000), xp('x2', 'u9', T0 + 20_000)],
    );
    expect(enriched(out)).toEqual([
      expect.objectContaining({ eventId: 'e2', variationId: 'A', exposedAt: T0 + 2_000, late: false }),
    ]);
  });

  it('holds events until the exposure stream passed them by the reorder allowance', () => {
    const p = new PartitionProcessor(opts, table(experiment()));
    p.pushEvent({ offset: 0, value: ev('e1', 'u1', T0 + 10_000) });
    p.pushExposure({ offset: 0, value: xp('x1', 'u0', T0 + 1_000) });
    p.run();
    expect(p.held.events).toBe(1); // frontier T0+1s is not past T0+10s+5s
    // An exposure that is 2 s "late" in the stream but before the event still counts.
    p.pushExposure({ offset: 1, value: xp('x2', 'u1', T0 + 8_000) });
    p.pushExposure({ offset: 2, value: xp('x3', 'u0', T0 + 15_001) });
    p.run();
    expect(p.held.events).toBe(0);
    expect(enriched(p.drain().outputs)).toEqual([
      expect.objectContaining({ eventId: 'e1', exposedAt: T0 + 8_000 }),
    ]);
  });

  it('marks units seen in two variants, keeps them in the enriched stream and out of aggregates', () => {
    const out = runAll(
      [
        ev('e1', 'u1', T0 + 10_000, 'buy', 2),
        ev('e2', 'u2', T0 + 10_000, 'buy', 3),
        ev('z', 'u0', T0 + 5 * MIN),
      ],
      [xp('x1', 'u1', T0), xp('x2', 'u1', T0 + 1_000, 'B'), xp('x3', 'u2', T0 + 2_000, 'B')],
    );
    expect(enriched(out)).toEqual([
      expect.objectContaining({ eventId: 'e1', variationId: 'A', multipleVariants: true }),
      expect.objectContaining({ eventId: 'e2', variationId: 'B', multipleVariants: false }),
    ]);
    expect(aggregates(out)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          variationId: 'B',
          metric: 'buy',
          events: 1,
          units: 1,
          valueSum: 3,
          valueSumSquares: 9,
        }),
        expect.objectContaining({ variationId: 'A', metric: null, exposedUnits: 1 }),
        expect.objectContaining({ variationId: 'B', metric: null, exposedUnits: 1 }),
      ]),
    );
    expect(aggregates(out).some((a) => a.variationId === 'A' && a.metric === 'buy')).toBe(false);
  });

  it('aggregates per window, emits on close only, and sends late events to the late topic', () => {
    const out = runAll(
      [
        ev('a', 'u1', T0 + 1_000, 'buy', 1),
        ev('b', 'u1', T0 + 2_000, 'buy', 2),
        ev('c', 'u2', T0 + 3_000, 'buy'),
        ev('d', 'u1', T0 + MIN + 31_000, 'buy', 5), // closes [T0, T0+1m)
        ev('late', 'u1', T0 + 4_000, 'buy', 7), // its window is closed: late
        ev('f', 'u1', T0 + MIN + 40_000, 'buy'), // [T0+1m, T0+2m) never closes
      ],
      [xp('x1', 'u1', T0), xp('x2', 'u2', T0)],
    );
    expect(aggregates(out)).toEqual([
      expect.objectContaining({
        metric: 'buy',
        windowStart: T0,
        windowEnd: T0 + MIN,
        events: 3,
        units: 2,
        valueSum: 3,
      }),
      expect.objectContaining({ metric: null, windowStart: T0, exposedUnits: 2 }),
    ]);
    const late = out.filter((o) => o.kind === 'late').map((o) => o.value);
    expect(late).toEqual([expect.objectContaining({ eventId: 'late', late: true })]);
    expect(enriched(out).map((e) => e.eventId)).toEqual(['a', 'b', 'c', 'd', 'late', 'f']);
  });

  it('expires assignments after the attribution window of inactivity', () => {
    const exps = table(experiment({ attributionWindowMs: 2 * MIN }));
    const p = new PartitionProcessor(opts, exps);
    p.pushExposure({ offset: 0, value: xp('x1', 'u1', T0) });
    p.pushEvent({ offset: 0, value: ev('e1', 'u1', T0 + MIN) });
    p.pushEvent({ offset: 1, value: ev('tick', 'u0', T0 + 3 * MIN + 29_000) });
    p.run(ENDED);
    expect(p.store.size).toBe(1); // last seen T0+1m, watermark T0+2m59s: still alive
    p.pushEvent({ offset: 2, value: ev('tick2', 'u0', T0 + 4 * MIN + 30_000) });
    p.run(ENDED);
    expect(p.store.size).toBe(0);
    expect(p.counters.expired).toBe(1);
    const { changelog } = p.drain();
    expect(changelog).toEqual(
      expect.arrayContaining([{ key: JSON.stringify(['a', 'u1', 'exp', 1]), value: null }]),
    );
  });

  it('turns undecodable records into failed events in stream order and goes on', () => {
    const p = new PartitionProcessor(opts, table(experiment()));
    p.pushEvent({
      offset: 0,
      failure: { payload: Buffer.from('junk'), code: 'not_wire_format', message: 'm', at: 1 },
    });
    p.pushEvent({ offset: 1, value: ev('e1', 'u1', T0 + 1_000) });
    p.pushExposure({ offset: 0, value: xp('x1', 'u1', T0) });
    p.run(ENDED);
    const out = p.drain().outputs;
    expect(out.filter((o) => o.kind === 'failed').map((o) => o.value)).toEqual([
      expect.objectContaining({ failureId: 'enricher:raw:0:0', sourceOffset: 0, stage: 'enricher' }),
    ]);
    expect(enriched(out)).toHaveLength(1);
    expect(p.meta).toMatchObject({ eventsNext: 2, exposuresNext: 1 });
  });

  it('drops copies of a messageId within the horizon, whatever their timestamps', () => {
    const first = ev('m1', 'u1', T0 + 1_000, 'buy', 4);
    const retry = { ...first, timestamp: T0 + 1_039, sentAt: T0 + 5_000, receivedAt: T0 + 5_000 };
    const afterHorizon = { ...first, receivedAt: T0 + 11 * MIN };
    const out = runAll([first, retry, ev('tick', 'u0', T0 + 11 * MIN), afterHorizon], [xp('x1', 'u1', T0)]);
    const clean = out.flatMap((o) => (o.kind === 'event' ? [o.value.messageId] : []));
    // The copy 4 s later is dropped; one arriving after the 10 min horizon is new again.
    expect(clean).toEqual(['m1', 'tick', 'm1']);
    // Attributed once (the late re-sent copy finds the assignment expired).
    expect(enriched(out).filter((e) => e.eventId === 'm1')).toHaveLength(1);
    expect(aggregates(out).find((a) => a.metric === 'buy')).toMatchObject({ events: 1, valueSum: 4 });
  });

  it('deduplicates exposures apart from events and publishes them with their phase', () => {
    const exps = table(experiment({ phases: [{ number: 3, start: T0 + MIN, end: null }] }));
    const out = runAll(
      [ev('x1', 'u1', T0 + 2 * MIN)], // an Experiment Viewed track event shares its exposure's id
      [
        xp('x0', 'u1', T0),
        xp('x1', 'u1', T0 + MIN),
        xp('x1', 'u1', T0 + MIN + 5),
        xp('x2', 'u2', T0 + MIN, 'A', 'nope'),
      ],
      exps,
    );
    const clean = out.flatMap((o) => (o.kind === 'exposure' ? [o.value] : []));
    expect(clean.map((x) => [x.messageId, x.phase, x.inRunningPhase])).toEqual([
      ['x0', null, false],
      ['x1', 3, true],
      ['x2', null, false],
    ]);
    expect(out.filter((o) => o.kind === 'event')).toHaveLength(1);
  });

  it('remembers ids across a restore from the changelog, and tombstones them after the horizon', () => {
    const p = new PartitionProcessor(opts, table(experiment()));
    p.pushEvent({ offset: 0, value: ev('m1', 'u1', T0) });
    p.run(ENDED);
    const { changelog } = p.drain();
    const key = JSON.stringify(['d', 'e', Math.floor(T0 / MIN), 'm1']);
    expect(changelog).toContainEqual({ key, value: `[["m1",${T0}]]` });
    const q = new PartitionProcessor(opts, table(experiment()), changelog);
    q.pushEvent({ offset: 1, value: { ...ev('m1', 'u1', T0 + 20), receivedAt: T0 + 9 * MIN } });
    q.pushEvent({ offset: 2, value: ev('later', 'u2', T0 + 12 * MIN) });
    q.run(ENDED);
    expect(q.counters.duplicateEvents).toBe(1);
    expect(q.drain().changelog).toContainEqual({ key, value: null });
    expect(q.seen.size).toBe(1); // only 'later'
  });

  it('closes quiet windows when the idle partition follows the wall clock, and records the decision', () => {
    const p = new PartitionProcessor(opts, table(experiment()));
    p.pushExposure({ offset: 0, value: xp('x1', 'u1', T0) });
    p.pushEvent({ offset: 0, value: ev('e1', 'u1', T0 + 1_000, 'buy', 2) });
    p.run(ENDED);
    expect(aggregates(p.drain().outputs)).toEqual([]); // stream time T0+1s: nothing closes
    expect(p.advanceIdle(T0 + MIN + 29_999)).toBeNull(); // [T0, T0+1m) needs the watermark at T0+1m
    const decision = p.advanceIdle(T0 + MIN + 30_000);
    expect(decision).toEqual({
      partition: 0,
      eventsNext: 1,
      exposuresNext: 1,
      streamTime: T0 + MIN + 30_000,
    });
    expect(aggregates(p.drain().outputs)).toEqual([
      expect.objectContaining({ metric: 'buy', events: 1, valueSum: 2 }),
      expect.objectContaining({ metric: null, exposedUnits: 1 }),
    ]);
    expect(p.advanceIdle(T0 + 10 * MIN)).toBeNull(); // nothing left to close: no decision
  });

  it('ignores re-delivered offsets', () => {
    const p = new PartitionProcessor(opts, table(experiment()));
    expect(p.pushEvent({ offset: 5, value: ev('e', 'u', T0) })).toBe(true);
    expect(p.pushEvent({ offset: 5, value: ev('e', 'u', T0) })).toBe(false);
    expect(p.pushEvent({ offset: 3, value: ev('e', 'u', T0) })).toBe(false);
  });

  it('gives the same outputs whatever the delivery chunks, and across restores from the changelog', () => {
    // A random workload, delivered in random chunks from both streams, with the processor
    // rebuilt from its own changelog at random commit points (as after a crash).
    let seed = 42;
    // mulberry32: integer arithmetic only, so the sequence is exact and well spread.
    const rnd = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
    };
    const events: TrackingEvent[] = [];
    const exposures: Exposure[] = [];
    for (let i = 0; i < 3_000; i++) {
      const t = T0 + i * 400 + Math.floor(rnd() * 20_000);
      const unit = `u${Math.floor(rnd() * 50)}`;
      if (rnd() < 0.3) exposures.push(xp(`x${i}`, unit, t, rnd() < 0.97 ? 'A' : 'B'));
      else events.push(ev(`e${i}`, unit, t, rnd() < 0.5 ? 'buy' : 'view', Math.floor(rnd() * 10)));
      // Client retries: a copy a little later, re-sent with a new sentAt (a shifted timestamp).
      if (rnd() < 0.05 && events.length > 0) {
        const original = events[events.length - 1]!;
        events.push({
          ...original,
          timestamp: original.timestamp + 37,
          receivedAt: original.receivedAt + 2_000,
        });
      }
    }
    const exps = table(experiment({ attributionWindowMs: 3 * MIN }));
    const reference = runAll(events, exposures, exps);
    expect(enriched(reference).length).toBeGreaterThan(300);
    expect(aggregates(reference).length).toBeGreaterThan(20);

    for (let trial = 0; trial < 3; trial++) {
      const outputs: Output[] = [];
      const changelog = new Map<string, ChangelogRecord>();
      let p = new PartitionProcessor(opts, exps);
      let i = 0;
      let j = 0;
      while (i < events.length || j < exposures.length) {
        const n = 1 + Math.floor(rnd() * 200);
        if (rnd() < 0.5)
          for (let k = 0; k < n && i < events.length; k++, i++) p.pushEvent({ offset: i, value: events[i]! });
        else
          for (let k = 0; k < n && j < exposures.length; k++, j++)
            p.pushExposure({ offset: j, value: exposures[j]! });
        p.run(undefined, 1 + Math.floor(rnd() * 300)); // bounded steps, as per transaction
        const batch = p.drain();
        if (rnd() < 0.2) {
          // "Crash" before commit: drop the uncommitted work, restore, re-read from the positions.
          p = new PartitionProcessor(opts, exps, [...changelog.values()]);
          i = p.meta.eventsNext;
          j = p.meta.exposuresNext;
          continue;
        }
        outputs.push(...batch.outputs);
        for (const rec of batch.changelog) changelog.set(rec.key, rec);
      }
      p.run(ENDED);
      outputs.push(...p.drain().outputs);
      expect(outputs).toEqual(reference);
    }
  });
});
