// Assignment state of one input partition: per (unit, experiment, phase) the variants the unit
// was exposed to with the earliest exposure time of each, the exposure count and the last
// activity. Variant times are kept per variant (a min per variant) so applying exposures is
// order-insensitive within a step and "first exposure wins" is simply the earliest of them.

export interface Assignment {
  unitId: string;
  experimentKey: string;
  phase: number;
  /** variant id → earliest exposure time (epoch ms) seen for it. */
  variants: Record<string, number>;
  exposures: number;
  /** Latest exposure or attributed event time; the entry expires after the attribution window of inactivity. */
  lastSeen: number;
  /** `${windowStart}:${metric}` of open windows in which this unit is already counted as a distinct unit. */
  counted: string[];
}

/** The variant of the first exposure (earliest time; ties go to the smaller variant id, deterministically). */
export function firstExposure(a: Assignment): { variant: string; at: number } {
  let variant = '';
  let at = Number.POSITIVE_INFINITY;
  for (const [v, t] of Object.entries(a.variants)) {
    if (t < at || (t === at && v < variant)) {
      variant = v;
      at = t;
    }
  }
  return { variant, at };
}

export function isMultiVariant(a: Assignment): boolean {
  return Object.keys(a.variants).length > 1;
}

export function assignmentKey(unitId: string, experimentKey: string, phase: number): string {
  return JSON.stringify(['a', unitId, experimentKey, phase]);
}

/** Assignments indexed by unit, since a join looks up every experiment of one unit. */
export class AssignmentStore {
  private readonly byUnit = new Map<string, Map<string, Assignment>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  forUnit(unitId: string): Iterable<Assignment> {
    return this.byUnit.get(unitId)?.values() ?? [];
  }

  get(unitId: string, experimentKey: string, phase: number): Assignment | undefined {
    return this.byUnit.get(unitId)?.get(assignmentKey(unitId, experimentKey, phase));
  }

  put(a: Assignment): void {
    let units = this.byUnit.get(a.unitId);
    if (!units) this.byUnit.set(a.unitId, (units = new Map()));
    const key = assignmentKey(a.unitId, a.experimentKey, a.phase);
    if (!units.has(key)) this.count++;
    units.set(key, a);
  }

  delete(a: Assignment): void {
    const units = this.byUnit.get(a.unitId);
    if (!units?.delete(assignmentKey(a.unitId, a.experimentKey, a.phase))) return;
    this.count--;
    if (units.size === 0) this.byUnit.delete(a.unitId);
  }

  *all(): Iterable<Assignment> {
    for (const units of this.byUnit.values()) yield* units.values();
  }
}
