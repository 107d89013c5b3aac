// The demo's simulated traffic: users exposed to a two-variant experiment, a known true effect
// on conversion and revenue, and a client that re-sends some events (same messageId, a new
// sentAt). Pure and seeded, so the expected results are known before anything is sent. Times
// are stamped when the calls are sent (the experiment runs from before the first of them), so
// every event lies inside the running phase.

export interface WorkloadOptions {
  users: number;
  /** Prefix of every user and message id, unique per run (the enricher remembers ids for 24 h). */
  run: string;
  experimentKey: string;
  /** Conversion probability per variant id, e.g. { blue: 0.10, green: 0.12 }. */
  conversionRates: Record<string, number>;
  /** Share of calls a retrying client sends a second time. */
  duplicateShare: number;
  seed: number;
}

/** A Segment track call as the collector takes it; `timestamp` is set when it is first sent. */
export interface TrackCall {
  type: 'track';
  messageId: string;
  userId: string;
  event: string;
  timestamp?: string;
  properties: Record<string, string | number>;
}

export interface Expected {
  exposed: number;
  converted: number;
  revenue: number;
}

export interface Workload {
  /** `Experiment Viewed`, one per user. */
  exposures: TrackCall[];
  /** `Order Completed`, sent after every exposure. */
  conversions: TrackCall[];
  /** The same call objects again: re-sent at the end with their first timestamp and a new sentAt. */
  duplicates: TrackCall[];
  /** Per variant: exposed users, converted users and their revenue. */
  expected: Record<string, Expected>;
}

export const EXPOSURE_EVENT = 'Experiment Viewed';
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
 * Builds the traffic. `assign` gives each user's variant (the SDK's evaluation), so the demo
 * assigns exactly as an app would.
 */
export function buildWorkload(opts: WorkloadOptions, assign: (userId: string) => string | null): Workload {
  const rnd = random(opts.seed);
  const exposures: TrackCall[] = [];
  const conversions: TrackCall[] = [];
  const expected: Workload['expected'] = {};
  for (let i = 0; i < opts.users; i++) {
    const userId = `${opts.run}-${i}`;
    const variant = assign(userId);
    if (variant === null) continue;
    const counts = (expected[variant] ??= { exposed: 0, converted: 0, revenue: 0 });
    counts.exposed++;
    exposures.push({
      type: 'track',
      messageId: `${userId}-exposure`,
      userId,
      event: EXPOSURE_EVENT,
      properties: { experiment_id: opts.experimentKey, variation_id: variant },
    });
    if (rnd() < (opts.conversionRates[variant] ?? 0)) {
      const value = Math.round((20 + rnd() * 80) * 100) / 100;
      counts.converted++;
      counts.revenue += value;
      conversions.push({
        type: 'track',
        messageId: `${userId}-order`,
        userId,
        event: CONVERSION_EVENT,
        properties: { value, currency: 'EUR' },
      });
    }
  }
  const duplicates = [...exposures, ...conversions].filter(() => rnd() < opts.duplicateShare);
  return { exposures, conversions, duplicates, expected };
}
