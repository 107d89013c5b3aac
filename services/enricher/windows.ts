// Event-time tumbling windows with a grace period and emit-final on close (Kafka Streams'
// windowedBy(...).grace(...) + suppress(untilWindowCloses)), pure.
//
// Stream time is the highest record time the partition has processed; the watermark is stream
// time minus grace. A window [start, start+size) closes when the watermark reaches its end; it
// is then emitted once, final. A record whose window is already closed is late: it is not
// aggregated (counted and kept at event grain instead).

export interface WindowSpec {
  sizeMs: number;
  graceMs: number;
}

export function windowStart(ts: number, sizeMs: number): number {
  return Math.floor(ts / sizeMs) * sizeMs;
}

export function watermarkOf(streamTime: number, graceMs: number): number {
  return streamTime - graceMs;
}

/** Whether a record at `ts` falls in a window that is closed at `streamTime`. */
export function isLate(ts: number, streamTime: number, spec: WindowSpec): boolean {
  return windowStart(ts, spec.sizeMs) + spec.sizeMs <= watermarkOf(streamTime, spec.graceMs);
}

export interface Accumulator {
  experimentKey: string;
  variationId: string;
  /** Event name; null for the exposure row. */
  metric: string | null;
  windowStart: number;
  events: number;
  units: number;
  valueSum: number;
  valueSumSquares: number;
  exposedUnits: number;
}

export function accumulatorKey(
  experimentKey: string,
  variationId: string,
  metric: string | null,
  start: number,
) {
  return JSON.stringify(['w', experimentKey, variationId, metric, start]);
}

/** Open windows of one partition, keyed by (experiment, variant, metric, window start). */
export class WindowStore {
  private readonly open = new Map<string, Accumulator>();

  constructor(readonly spec: WindowSpec) {}

  get size(): number {
    return this.open.size;
  }

  values(): Iterable<Accumulator> {
    return this.open.values();
  }

  /** The accumulator for the key, created empty when absent; `key` is returned for change tracking. */
  get(
    experimentKey: string,
    variationId: string,
    metric: string | null,
    start: number,
  ): [string, Accumulator] {
    const key = accumulatorKey(experimentKey, variationId, metric, start);
    let acc = this.open.get(key);
    if (!acc) {
      acc = {
        experimentKey,
        variationId,
        metric,
        windowStart: start,
        events: 0,
        units: 0,
        valueSum: 0,
        valueSumSquares: 0,
        exposedUnits: 0,
      };
      this.open.set(key, acc);
    }
    return [key, acc];
  }

  remove(key: string): void {
    this.open.delete(key);
  }

  restore(acc: Accumulator): void {
    this.open.set(accumulatorKey(acc.experimentKey, acc.variationId, acc.metric, acc.windowStart), acc);
  }

  /** Whether some open window ends at or before the watermark (would close). */
  closesAny(watermark: number): boolean {
    for (const acc of this.open.values()) if (acc.windowStart + this.spec.sizeMs <= watermark) return true;
    return false;
  }

  /**
   * Removes and returns every window whose end is at or before the watermark, in a fixed order
   * (window start, then key) so that emission is deterministic.
   */
  close(watermark: number): Array<[string, Accumulator]> {
    const closed: Array<[string, Accumulator]> = [];
    for (const entry of this.open) {
      if (entry[1].windowStart + this.spec.sizeMs <= watermark) closed.push(entry);
    }
    if (closed.length === 0) return closed;
    closed.sort((a, b) => a[1].windowStart - b[1].windowStart || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    for (const [key] of closed) this.open.delete(key);
    return closed;
  }
}
