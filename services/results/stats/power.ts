/**
 * Power and minimum detectable effect (MDE), for planning an experiment and for reading a
 * result that is not significant. Formulas follow GrowthBook's power calculator
 * (powerEstFrequentist, findMdeFrequentist) and gbstats' mid-experiment power (the units
 * still needed to reach a target power for a target effect).
 */
import { normalCdf, normalQuantile } from './distributions';
import { type DifferenceType, safeSqrt } from './effects';
import { DEFAULT_ALPHA } from './frequentist';
import { sequentialHalfWidth } from './sequential';

export const DEFAULT_TARGET_POWER = 0.8;

/** Per-unit mean and variance of the baseline; for a conversion rate p, variance = p(1 - p). */
export interface BaselineMoments {
  mean: number;
  variance: number;
}

/**
 * Power of a level-alpha z-test when the true effect is `effect` and the estimate has standard
 * error `se`: 1 - Φ(z* - effect/se) + Φ(-z* - effect/se) (two-sided), or the first term only.
 */
export function powerFromStandardError(
  effect: number,
  se: number,
  alpha = DEFAULT_ALPHA,
  twoSided = true,
): number {
  if (!(se > 0)) return NaN;
  const zStar = normalQuantile(twoSided ? 1 - alpha / 2 : 1 - alpha);
  const d = effect / se;
  let power = normalCdf(d - zStar);
  if (twoSided) power += normalCdf(-zStar - d);
  return power;
}

/**
 * Smallest |effect| detected with probability `power` by a two-sided level-alpha test whose
 * estimate has standard error `se`. Solved exactly (both tails) by bisection; the familiar
 * (z(1-α/2) + z(power))·se ignores the far tail and is the starting bracket.
 */
export function detectableEffect(se: number, alpha = DEFAULT_ALPHA, power = DEFAULT_TARGET_POWER): number {
  if (!(se > 0) || !(power > alpha / 2) || !(power < 1)) return NaN;
  const approx = (normalQuantile(1 - alpha / 2) + normalQuantile(power)) * se;
  let lo = 0;
  let hi = Math.max(approx, se) * 2;
  for (let i = 0; i < 200 && hi - lo > 1e-15 * hi; i++) {
    const mid = 0.5 * (lo + hi);
    if (powerFromStandardError(mid, se, alpha) < power) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

export interface PlanInput {
  baseline: BaselineMoments;
  /** Expected relative lift (0.05 = +5%). */
  effect: number;
  /** Units in each variant (total / number of variants, as GrowthBook's n / nVariations). */
  unitsPerVariant: number;
  alpha?: number;
  /** Plan for a sequential analysis with this tuning parameter. */
  sequentialTuning?: number;
}

/** Delta-method standard error of the relative lift when the variant's mean is mean·(1 + effect). */
export function planningStandardError(input: PlanInput, difference: DifferenceType = 'relative'): number {
  const { mean, variance } = input.baseline;
  const n = input.unitsPerVariant;
  const meanB = mean * (1 + input.effect);
  const v =
    difference === 'absolute'
      ? (2 * variance) / n
      : variance / (mean ** 2 * n) + (variance * meanB ** 2) / (mean ** 4 * n);
  const se = safeSqrt(v);
  if (input.sequentialTuning === undefined) return se;
  // GrowthBook inflates the standard error by the ratio of the sequential half-width to the fixed one.
  const alpha = input.alpha ?? DEFAULT_ALPHA;
  const nTotal = 2 * n;
  const half = sequentialHalfWidth(v * nTotal, nTotal, alpha, input.sequentialTuning);
  return half / normalQuantile(1 - alpha / 2);
}

/** Planned power to detect `effect` (relative lift), GrowthBook powerEstFrequentist. */
export function plannedPower(input: PlanInput): number {
  return powerFromStandardError(input.effect, planningStandardError(input), input.alpha ?? DEFAULT_ALPHA);
}

export interface MdeInput {
  baseline: BaselineMoments;
  unitsPerVariant: number;
  power?: number;
  alpha?: number;
  sequentialTuning?: number;
}

export type MdeResult = { ok: true; mde: number } | { ok: false; reason: string };

/**
 * Relative MDE for planning (GrowthBook findMdeFrequentist): solves
 * (m_b - m)² = z² σ²/n · (1 + m_b²/m²) for the variant mean m_b, with z = z(1-α/2) + z(power),
 * using the far-tail-free approximation of the power function.
 */
export function plannedMde(input: MdeInput): MdeResult {
  const alpha = input.alpha ?? DEFAULT_ALPHA;
  const power = input.power ?? DEFAULT_TARGET_POWER;
  if (power <= alpha) return { ok: false, reason: 'power must be greater than alpha' };
  const m = input.baseline.mean;
  if (!(m > 0)) return { ok: false, reason: 'the baseline mean must be positive for a relative MDE' };
  const n = input.unitsPerVariant;
  const z = normalQuantile(1 - alpha / 2) - normalQuantile(1 - power);
  let v = input.baseline.variance;
  if (input.sequentialTuning !== undefined) {
    const nTotal = 2 * n;
    // Per-unit variance whose fixed-horizon interval is as wide as the sequential one.
    const half = sequentialHalfWidth(v, nTotal, alpha, input.sequentialTuning);
    v = nTotal * (half / normalQuantile(1 - alpha / 2)) ** 2;
  }
  if (n <= (v * z * z) / (m * m)) {
    return { ok: false, reason: 'too few units: increase the sample or reduce the number of variants' };
  }
  const s2 = v / n;
  const aq = 1 - (z * z * s2) / (m * m);
  const bq = -2 * m;
  const cq = m * m - z * z * s2;
  const root = (-bq + Math.sqrt(bq * bq - 4 * aq * cq)) / (2 * aq);
  return { ok: true, mde: (root - m) / m };
}

export interface AdditionalUnitsInput {
  /** Standard error of the effect now (from the test result). */
  standardError: number;
  /** Units analysed so far in the pair (baseline + variant). */
  unitsSoFar: number;
  /** Effect we want to be able to detect, on the same scale as the standard error. */
  targetEffect: number;
  targetPower?: number;
  alpha?: number;
}

export interface AdditionalUnitsResult {
  /** Power now for the target effect. */
  currentPower: number;
  /** Extra units (pair total) so that power reaches the target; 0 when already there. */
  additionalUnits: number;
  /** additionalUnits / unitsSoFar. */
  scalingFactor: number;
}

/**
 * Mid-experiment power (gbstats MidExperimentPower, flat prior, fixed horizon): with k times
 * more data the variance becomes se²/(1 + k); find the k where power reaches the target.
 * Solved to 1e-12 by bisection (gbstats stops at a power tolerance of 1e-5).
 */
export function additionalUnitsNeeded(input: AdditionalUnitsInput): AdditionalUnitsResult {
  const alpha = input.alpha ?? DEFAULT_ALPHA;
  const target = input.targetPower ?? DEFAULT_TARGET_POWER;
  const effect = Math.abs(input.targetEffect);
  const powerAt = (k: number) =>
    powerFromStandardError(effect, input.standardError / Math.sqrt(1 + k), alpha);
  const currentPower = powerAt(0);
  if (currentPower >= target) return { currentPower, additionalUnits: 0, scalingFactor: 0 };
  let hi = 1;
  while (powerAt(hi) < target && hi < 2 ** 60) hi *= 2;
  let lo = 0;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    const mid = 0.5 * (lo + hi);
    if (powerAt(mid) < target) lo = mid;
    else hi = mid;
  }
  const k = 0.5 * (lo + hi);
  return { currentPower, additionalUnits: k * input.unitsSoFar, scalingFactor: k };
}
