/**
 * The effect of variant b against baseline a and its sampling variance: absolute (difference
 * of means) or relative (lift, delta method), plus the input guards every engine shares.
 */
import type { UnitStatistic } from './metrics';

export type DifferenceType = 'relative' | 'absolute';

/** Why a comparison has no inference. Names follow gbstats' messages where one exists. */
export type StatsErrorCode =
  'NO_UNITS_IN_VARIATION' | 'TOO_FEW_UNITS' | 'ZERO_NEGATIVE_BASELINE_VARIATION' | 'ZERO_NEGATIVE_VARIANCE';

/**
 * Default minimum units per variant before any test statistic is computed. Below it the
 * normal/t approximations the engines rest on are not trustworthy, so we report "too few
 * units" instead of a z or t. gbstats has no such floor (it only needs n ≥ 2); set
 * `minUnits: 2` to reproduce it exactly.
 */
export const DEFAULT_MIN_UNITS = 30;

export interface EffectMoments {
  /** Point estimate: b - a (absolute) or (b - a) / a (relative, a = raw baseline mean). */
  estimate: number;
  /** Sampling variance of the estimate. */
  variance: number;
}

/** gbstats frequentist_diff: the adjusted difference over the raw baseline mean. */
export function effectEstimate(a: UnitStatistic, b: UnitStatistic, difference: DifferenceType): number {
  const diff = b.mean - a.mean;
  if (difference === 'absolute') return diff;
  // gbstats falls back to the adjusted mean when the raw one is 0; guards stop that case earlier.
  return diff / (a.unadjustedMean || a.mean);
}

/**
 * gbstats frequentist_variance. Relative: first-order delta method for (μb - μa)/μa with
 * independent groups, Var ≈ σb²/(μa² nb) + σa² μb² / (μa⁴ na), using raw means.
 */
export function effectVariance(a: UnitStatistic, b: UnitStatistic, difference: DifferenceType): number {
  if (difference === 'absolute') return b.variance / b.n + a.variance / a.n;
  const ma = a.unadjustedMean;
  const mb = b.unadjustedMean;
  return b.variance / (ma ** 2 * b.n) + (a.variance * mb ** 2) / (ma ** 4 * a.n);
}

export function effectMoments(a: UnitStatistic, b: UnitStatistic, difference: DifferenceType): EffectMoments {
  return { estimate: effectEstimate(a, b, difference), variance: effectVariance(a, b, difference) };
}

export interface GuardOptions {
  difference: DifferenceType;
  minUnits: number;
}

/**
 * The checks run before any inference, in gbstats' order. We differ from gbstats 0.8.0 in two
 * deliberate ways (docs/statistics.md): a relative effect needs a strictly positive baseline
 * (a lift over a negative mean has no meaning), and an absolute effect is allowed a zero
 * baseline (gbstats refuses it in its t-test although the difference is well defined).
 */
export function guardPair(a: UnitStatistic, b: UnitStatistic, opts: GuardOptions): StatsErrorCode | null {
  if (a.n === 0 || b.n === 0) return 'NO_UNITS_IN_VARIATION';
  // Whatever the setting, a variance needs two units.
  const minUnits = Math.max(2, opts.minUnits);
  if (a.n < minUnits || b.n < minUnits) return 'TOO_FEW_UNITS';
  if (opts.difference === 'relative' && (a.unadjustedMean <= 0 || a.mean === 0)) {
    return 'ZERO_NEGATIVE_BASELINE_VARIATION';
  }
  if (!(a.variance > 0) || !(b.variance > 0)) return 'ZERO_NEGATIVE_VARIANCE';
  return null;
}

/** Square root that treats tiny negative rounding residue as 0 instead of returning NaN. */
export function safeSqrt(x: number): number {
  return x > 0 ? Math.sqrt(x) : 0;
}
