// Deduplication by messageId, pure: the first copy of an id passes, copies within the horizon
// are dropped. Copies of one event share its messageId and its key (unitId), so they meet in
// one partition; their timestamps may differ (each copy's clock-skew correction uses its own
// sentAt), so ids are never matched by time.
//
// The horizon is measured in arrival time: the partition's highest `receivedAt` (the
// collector's clock) processed so far, a value the records carry, so a replay makes the same
// decisions. An id is remembered until `horizonMs` after its first copy arrived; a lookup treats
// an older entry as gone whether or not the sweep has reclaimed it yet, so decisions never
// depend on when memory is reclaimed.

/** Events and exposures are separate namespaces: an `Experiment Viewed` track event and its exposure share an id. */
export type DedupeInput = 'e' | 'x';

/** The entry's key in the changelog topic. */
export function dedupeKey(input: DedupeInput, id: string): string {
  return JSON.stringify(['d', input, id]);
}

export class DedupeStore {
  /** Per input: id → receivedAt of its first copy. Keyed by the id itself: no extra string per entry. */
  private readonly firstSeen: Record<DedupeInput, Map<string, number>> = { e: new Map(), x: new Map() };
  /** Ids by the arrival bucket of their first copy, so expiry sweeps whole buckets. */
  private readonly buckets = new Map<number, Record<DedupeInput, string[]>>();
  /** Buckets below this index have been swept. */
  private swept = Number.NEGATIVE_INFINITY;

  constructor(
    readonly horizonMs: number,
    private readonly bucketMs = 60_000,
  ) {}

  get size(): number {
    return this.firstSeen.e.size + this.firstSeen.x.size;
  }

  /** Whether `id` is a copy of a record that arrived within the horizon before `clock`. */
  isCopy(input: DedupeInput, id: string, clock: number): boolean {
    const first = this.firstSeen[input].get(id);
    return first !== undefined && first + this.horizonMs > clock;
  }

  /** Remembers a first copy (also how the changelog restores an entry). */
  remember(input: DedupeInput, id: string, receivedAt: number): void {
    this.firstSeen[input].set(id, receivedAt);
    const bucket = Math.floor(receivedAt / this.bucketMs);
    let ids = this.buckets.get(bucket);
    if (!ids) this.buckets.set(bucket, (ids = { e: [], x: [] }));
    ids[input].push(id);
  }

  /** A changelog tombstone. The id may stay listed in its bucket; expiry skips it. */
  forget(input: DedupeInput, id: string): void {
    this.firstSeen[input].delete(id);
  }

  /**
   * Reclaims every entry whose horizon ended at or before `clock` and returns their changelog
   * keys (to tombstone). Cheap when no bucket became due.
   */
  expire(clock: number): string[] {
    const due = Math.floor((clock - this.horizonMs) / this.bucketMs); // buckets wholly past the horizon
    if (due <= this.swept) return [];
    this.swept = due;
    const expired: string[] = [];
    for (const [bucket, ids] of this.buckets) {
      if (bucket >= due) continue;
      for (const input of ['e', 'x'] as const) {
        const seen = this.firstSeen[input];
        for (const id of ids[input]) {
          const at = seen.get(id);
          // Skip ids forgotten or remembered again since (listed in another bucket).
          if (at !== undefined && Math.floor(at / this.bucketMs) === bucket) {
            seen.delete(id);
            expired.push(dedupeKey(input, id));
          }
        }
      }
      this.buckets.delete(bucket);
    }
    return expired;
  }
}
