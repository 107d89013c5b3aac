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

// The changelog holds the remembered ids in batches: one record per input, arrival bucket and
// transaction step (at most BATCH_IDS ids), keyed by the bucket and the batch's first id, rather
// than one record per id. A step's remembered ids are one or two records, not thousands, and a
// bucket's records are tombstoned together when it passes the horizon. Records of the older
// per-id form (["d", input, id] → receivedAt) are still restored and tombstoned.

/** Events and exposures are separate namespaces: an `Experiment Viewed` track event and its exposure share an id. */
export type DedupeInput = 'e' | 'x';

/** Ids per changelog record at most (a record stays far below Kafka's 1 MB message limit). */
export const BATCH_IDS = 1_000;

/** A changelog record of the dedupe state: a batch of [id, receivedAt], or a tombstone (null). */
export interface DedupeChangelogRecord {
  key: string;
  value: string | null;
}

export class DedupeStore {
  /** Per input: id → receivedAt of its first copy. Keyed by the id itself: no extra string per entry. */
  private readonly firstSeen: Record<DedupeInput, Map<string, number>> = { e: new Map(), x: new Map() };
  /** Ids by the arrival bucket of their first copy, so expiry sweeps whole buckets. */
  private readonly buckets = new Map<number, Record<DedupeInput, string[]>>();
  /** Buckets below this index have been swept. */
  private swept = Number.NEGATIVE_INFINITY;
  /** Per bucket: the changelog keys holding its ids, tombstoned when the bucket expires. */
  private readonly keys = new Map<number, string[]>();
  /** Ids remembered since the last `changelog()`, to be written. */
  private unsaved: Array<[DedupeInput, string, number]> = [];

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

  /** Remembers a first copy; `changelog()` writes it. */
  remember(input: DedupeInput, id: string, receivedAt: number): void {
    this.hold(input, id, receivedAt);
    this.unsaved.push([input, id, receivedAt]);
  }

  private hold(input: DedupeInput, id: string, receivedAt: number): void {
    this.firstSeen[input].set(id, receivedAt);
    const bucket = this.bucketOf(receivedAt);
    let ids = this.buckets.get(bucket);
    if (!ids) this.buckets.set(bucket, (ids = { e: [], x: [] }));
    ids[input].push(id);
  }

  private bucketOf(receivedAt: number): number {
    return Math.floor(receivedAt / this.bucketMs);
  }

  private keep(bucket: number, key: string): void {
    const keys = this.keys.get(bucket);
    if (keys) keys.push(key);
    else this.keys.set(bucket, [key]);
  }

  /** The records that save the ids remembered since the last call: batches per input and bucket. */
  changelog(): DedupeChangelogRecord[] {
    const groups = new Map<string, { input: DedupeInput; bucket: number; ids: Array<[string, number]> }>();
    for (const [input, id, at] of this.unsaved) {
      const bucket = this.bucketOf(at);
      const group = `${input}:${bucket}`;
      let g = groups.get(group);
      if (!g) groups.set(group, (g = { input, bucket, ids: [] }));
      g.ids.push([id, at]);
    }
    this.unsaved = [];
    const records: DedupeChangelogRecord[] = [];
    for (const { input, bucket, ids } of groups.values()) {
      for (let i = 0; i < ids.length; i += BATCH_IDS) {
        const batch = ids.slice(i, i + BATCH_IDS);
        // An id is remembered once per bucket (the horizon is longer than a bucket): unique key.
        const key = JSON.stringify(['d', input, bucket, batch[0]![0]]);
        this.keep(bucket, key);
        records.push({ key, value: JSON.stringify(batch) });
      }
    }
    return records;
  }

  /** Restores a changelog record of the dedupe state (a batch, an older per-id record, or a tombstone). */
  restore(key: string, value: string | null): void {
    const parts = JSON.parse(key) as ['d', DedupeInput, ...unknown[]];
    const input = parts[1];
    if (parts.length === 3) {
      // The older per-id form: ["d", input, id] → receivedAt.
      const id = parts[2] as string;
      if (value === null) {
        this.firstSeen[input].delete(id);
        return;
      }
      const at = Number(value);
      this.hold(input, id, at);
      this.keep(this.bucketOf(at), key);
      return;
    }
    const bucket = parts[2] as number;
    if (value === null) {
      // Its bucket was past the horizon when written: lookups already ignore its ids, and the
      // next sweep reclaims them without tombstoning this key again.
      const keys = this.keys.get(bucket);
      if (keys)
        this.keys.set(
          bucket,
          keys.filter((k) => k !== key),
        );
      return;
    }
    for (const [id, at] of JSON.parse(value) as Array<[string, number]>) this.hold(input, id, at);
    this.keep(bucket, key);
  }

  /**
   * Reclaims every entry whose horizon ended at or before `clock` and returns the changelog keys
   * that held them (to tombstone). Cheap when no bucket became due.
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
          // Skip ids remembered again since (listed in another bucket).
          const at = seen.get(id);
          if (at !== undefined && this.bucketOf(at) === bucket) seen.delete(id);
        }
      }
      this.buckets.delete(bucket);
    }
    for (const [bucket, keys] of this.keys) {
      if (bucket >= due) continue;
      expired.push(...keys);
      this.keys.delete(bucket);
    }
    return expired;
  }
}
