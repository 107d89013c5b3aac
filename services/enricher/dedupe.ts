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
  /** input + id → receivedAt of the first copy (the namespace letter prefixes the id). */
  private readonly firstSeen = new Map<string, number>();
  /** Entries by the arrival bucket of their first copy, so expiry sweeps whole buckets. */
  private readonly buckets = new Map<number, string[]>();
  /** Buckets below this index have been swept. */
  private swept = Number.NEGATIVE_INFINITY;

  constructor(
    readonly horizonMs: number,
    private readonly bucketMs = 60_000,
  ) {}

  get size(): number {
    return this.firstSeen.size;
  }

  /** Whether `id` is a copy of a record that arrived within the horizon before `clock`. */
  isCopy(input: DedupeInput, id: string, clock: number): boolean {
    const first = this.firstSeen.get(input + id);
    return first !== undefined && first + this.horizonMs > clock;
  }

  /** Remembers a first copy (also how the changelog restores an entry). */
  remember(input: DedupeInput, id: string, receivedAt: number): void {
    const entry = input + id;
    this.firstSeen.set(entry, receivedAt);
    const bucket = Math.floor(receivedAt / this.bucketMs);
    let entries = this.buckets.get(bucket);
    if (!entries) this.buckets.set(bucket, (entries = []));
    entries.push(entry);
  }

  /** A changelog tombstone. The entry may stay listed in its bucket; expiry skips it. */
  forget(input: DedupeInput, id: string): void {
    this.firstSeen.delete(input + id);
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
    for (const [bucket, entries] of this.buckets) {
      if (bucket >= due) continue;
      for (const entry of entries) {
        const at = this.firstSeen.get(entry);
        // Skip entries forgotten or remembered again since (listed in another bucket).
        if (at !== undefined && Math.floor(at / this.bucketMs) === bucket) {
          this.firstSeen.delete(entry);
          expired.push(dedupeKey(entry[0] as DedupeInput, entry.slice(1)));
        }
      }
      this.buckets.delete(bucket);
    }
    return expired;
  }
}
