// The demo's simulated traffic: users exposed to a two-variant experiment, a known true
// effect on conversion, and the untidy parts of real traffic (duplicate deliveries and late
// arrivals). Pure and seeded, so the expected results are known before anything is sent.

export interface WorkloadOptions {
  users: number;
  experimentKey: string;
  /** Conversion probability per variant id, e.g. { blue: 0.10, green: 0.12 }. */
  conversionRates: Record<string, number>;
  /** Share of events sent a second time with the same messageId. */
  duplicateShare: number;
  /** Share of users whose events happened earlier and arrive last (late for the windows). */
  lateShare: number;
  /** Now, in ms: the latest event time. */
  now: number;
  seed: number;
}

/** A Segment track call as the collector takes it. */
export interface TrackCall {
  type: 'track';
  messageId: string;
  userId: string;
  event: string;
  timestamp: string;
  properties: Record<string, string | number>;
}

export interface Workload {
  /** In send order: on-time traffic first, then duplicates and late users mixed in at the end. */
  calls: TrackCall[];
  /** Per variant: distinct exposed users and distinct converted users. */
  expected: Record<string, { exposed: number; converted: number }>;
  duplicates: number;
  lateUsers: number;
}

export const CONVERSION_EVENT = 'Order Completed';

/** mulberry32: a small seeded PRNG, so a demo run is reproducible from its seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Builds the traffic. `assign` gives each user's variant (the SDK's evaluation), so the
 * demo assigns exactly as an app would.
 */
export function buildWorkload(opts: WorkloadOptions, assign: (userId: string) => string | null): Workload {
  const rnd = random(opts.seed);
  const onTime: TrackCall[] = [];
  const late: TrackCall[] = [];
  const expected: Workload['expected'] = {};
  const span = 5 * 60_000; // on-time traffic spreads over the last five minutes
  let lateUsers = 0;

  for (let i = 0; i < opts.users; i++) {
    const userId = `demo-${opts.seed}-${i}`;
    const variant = assign(userId);
    if (variant === null) continue;
    const isLate = rnd() < opts.lateShare;
    // Late users' events happened ten minutes before the rest: beyond any window's grace.
    const exposedAt = opts.now - Math.floor(rnd() * span) - (isLate ? 10 * 60_000 : 60_000);
    const out = isLate ? late : onTime;
    if (isLate) lateUsers++;
    const counts = (expected[variant] ??= { exposed: 0, converted: 0 });
    counts.exposed++;
    out.push({
      type: 'track',
      messageId: `${userId}-exposure`,
      userId,
      event: 'Experiment Viewed',
      timestamp: new Date(exposedAt).toISOString(),
      properties: { experiment_id: opts.experimentKey, variation_id: variant },
    });
    if (rnd() < (opts.conversionRates[variant] ?? 0)) {
      counts.converted++;
      out.push({
        type: 'track',
        messageId: `${userId}-order`,
        userId,
        event: CONVERSION_EVENT,
        timestamp: new Date(exposedAt + 1_000 + Math.floor(rnd() * 50_000)).toISOString(),
        properties: { value: Math.round((20 + rnd() * 80) * 100) / 100, currency: 'EUR' },
      });
    }
  }

  const duplicated = onTime.filter(() => rnd() < opts.duplicateShare);
  return {
    calls: [...onTime, ...interleave(late, duplicated)],
    expected,
    duplicates: duplicated.length,
    lateUsers,
  };
}

function interleave<T>(a: T[], b: T[]): T[] {
  const out: T[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (i < a.length) out.push(a[i]!);
    if (i < b.length) out.push(b[i]!);
  }
  return out;
}
