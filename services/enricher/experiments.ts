// The registry-changes topic read as a table: the enricher's minimal view of an experiment.
//
// Fields read from RegistryChange.snapshot (the registry's Experiment JSON, see
// services/registry/experiments/model.ts):
//   key                          experiment key (exposures carry it as experimentKey)
//   status                       lifecycle status; only used when `phases` is absent
//   phases[] {number, startedAt, endedAt}
//                                periods the experiment ran (ISO times); a new phase re-randomises,
//                                so assignments are kept per phase
//   attributionWindowHours       how long after first exposure a unit's events are attributed
//   primaryMetrics[].event, secondaryMetrics[].event, guardrailMetrics[].event
//                                events aggregated per window (all events when none is declared)
// Everything else in the snapshot is ignored, so the registry may add fields freely.

import type { RegistryChange } from '../common/records';

export interface PhaseWindow {
  number: number;
  /** Inclusive start, epoch ms. */
  start: number;
  /** Exclusive end, epoch ms; null while the phase runs. */
  end: number | null;
}

export interface ExperimentView {
  key: string;
  status: string;
  phases: PhaseWindow[];
  attributionWindowMs: number;
  /** Event names aggregated per window; null means every event. */
  metrics: ReadonlySet<string> | null;
}

export interface ExperimentLookup {
  get(key: string): ExperimentView | undefined;
}

const HOUR_MS = 3_600_000;
const DEFAULT_ATTRIBUTION_HOURS = 72;

/** The phase the experiment was running in at `ts`, if any ("running" is judged in event time). */
export function phaseAt(exp: ExperimentView, ts: number): PhaseWindow | undefined {
  // Phases are few; the latest matching one wins if the registry ever overlaps them.
  for (let i = exp.phases.length - 1; i >= 0; i--) {
    const p = exp.phases[i]!;
    if (ts >= p.start && (p.end === null || ts < p.end)) return p;
  }
  return undefined;
}

function time(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value !== 'string') return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

/** Parses a registry snapshot into the view; throws with a reason when it is not an experiment. */
export function parseExperiment(snapshot: string): ExperimentView {
  const doc = JSON.parse(snapshot) as Record<string, unknown>;
  if (typeof doc.key !== 'string') throw new Error('experiment snapshot has no key');
  const status = typeof doc.status === 'string' ? doc.status : 'draft';
  let phases: PhaseWindow[] = [];
  if (Array.isArray(doc.phases)) {
    phases = (doc.phases as Record<string, unknown>[]).flatMap((p, i) => {
      const start = time(p.startedAt);
      if (start === null) return [];
      return [{ number: typeof p.number === 'number' ? p.number : i, start, end: time(p.endedAt) }];
    });
  } else if (status === 'running') {
    // Snapshots without phase history: one phase from startAt (or always) while running.
    phases = [{ number: 0, start: time(doc.startAt) ?? Number.MIN_SAFE_INTEGER, end: time(doc.endAt) }];
  }
  const hours =
    typeof doc.attributionWindowHours === 'number' && doc.attributionWindowHours > 0
      ? doc.attributionWindowHours
      : DEFAULT_ATTRIBUTION_HOURS;
  const metricEvents = [doc.primaryMetrics, doc.secondaryMetrics, doc.guardrailMetrics].flatMap((list) =>
    Array.isArray(list)
      ? (list as Record<string, unknown>[]).flatMap((m) => (typeof m.event === 'string' ? [m.event] : []))
      : [],
  );
  return {
    key: doc.key,
    status,
    phases,
    attributionWindowMs: hours * HOUR_MS,
    metrics: metricEvents.length > 0 ? new Set(metricEvents) : null,
  };
}

/**
 * The experiment table. Changes are applied in sequence order; a record whose sequence is not
 * above the last applied one for its key is a re-delivery by the registry's at-least-once relay
 * and is dropped.
 */
export class ExperimentTable implements ExperimentLookup {
  private readonly byKey = new Map<string, ExperimentView>();
  private readonly sequences = new Map<string, number>();

  get(key: string): ExperimentView | undefined {
    return this.byKey.get(key);
  }

  get size(): number {
    return this.byKey.size;
  }

  /** Applies one change; returns false when it was ignored (flag, stale, unparsable). */
  apply(change: RegistryChange): boolean {
    if (change.entityType !== 'experiment') return false;
    const last = this.sequences.get(change.key);
    if (last !== undefined && change.sequence <= last) return false;
    this.sequences.set(change.key, change.sequence);
    if (change.snapshot === null) {
      this.byKey.delete(change.key);
      return true;
    }
    this.byKey.set(change.key, parseExperiment(change.snapshot));
    return true;
  }
}
