/**
 * Remembers which (unit, experiment, variant) exposures were already logged, so a unit that
 * evaluates a flag a thousand times produces one `Experiment Viewed` event. Bounded: when
 * full, the oldest entries are forgotten (a forgotten exposure may be logged again, which
 * the pipeline tolerates: first exposure wins downstream).
 */
export class ExposureLog {
  private readonly seen = new Set<string>();

  constructor(private readonly capacity = 50_000) {}

  /** True the first time this exposure is seen (within capacity), false after. */
  firstTime(unitId: string, experimentKey: string, variationId: string): boolean {
    const key = `${unitId}\u0000${experimentKey}\u0000${variationId}`;
    if (this.seen.has(key)) return false;
    if (this.seen.size >= this.capacity) {
      // Sets iterate in insertion order: drop the oldest.
      this.seen.delete(this.seen.values().next().value as string);
    }
    this.seen.add(key);
    return true;
  }
}
