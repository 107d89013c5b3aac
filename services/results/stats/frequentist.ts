/**
 * Frequentist engine: Welch t-test on the effect (gbstats TwoSidedTTest,
 * OneSidedTreatmentGreaterTTest, OneSidedTreatmentLesserTTest) and, when sequential testing is
 * on, the mixture confidence sequence (gbstats SequentialTwoSidedTTest).
 */
import { studentTCdf, studentTQuantile, studentTSf } from './distributions';
import {
  DEFAULT_MIN_UNITS,
  type DifferenceType,
  effectMoments,
  guardPair,
  safeSqrt,
  type StatsErrorCode,
} from './effects';
import type { UnitStatistic } from './metrics';
import { sequentialHalfWidth, sequentialPValue } from './sequential';

export const DEFAULT_ALPHA = 0.05;

/** `greater`: H1 is "b beats a" (effect > testValue); `less`: effect < testValue. */
export type Alternative = 'two-sided' | 'greater' | 'less';

export interface FrequentistOptions {
  difference?: DifferenceType;
  /** Two-sided level; the interval has coverage 1 - alpha. Default 0.05. */
  alpha?: number;
  alternative?: Alternative;
  /** Null value of the effect (default 0). */
  testValue?: number;
  /** Sequential testing with this tuning parameter (total units); off when absent. */
  sequentialTuning?: number;
  /** Units per variant below which no test statistic is computed (default DEFAULT_MIN_UNITS). */
  minUnits?: number;
}

export interface FrequentistResult {
  difference: DifferenceType;
  /** Point estimate of the effect (lift for relative). */
  estimate: number;
  /** Standard error of the estimate. */
  standardError: number;
  /** Confidence interval (a confidence sequence when sequential); ±Infinity on an open side. */
  ci: [number, number];
  pValue: number;
  /** t statistic (estimate - testValue) / standardError. */
  statistic: number;
  /** Welch-Satterthwaite degrees of freedom. */
  dof: number;
  sequential: boolean;
  /** Set when no inference was possible; the other fields are then uninformative (gbstats' default output). */
  error: StatsErrorCode | null;
}

/** Welch-Satterthwaite degrees of freedom from the per-unit variances. */
export function welchDof(a: UnitStatistic, b: UnitStatistic): number {
  const va = a.variance / a.n;
  const vb = b.variance / b.n;
  return (va + vb) ** 2 / (vb ** 2 / (b.n - 1) + va ** 2 / (a.n - 1));
}

function emptyResult(
  difference: DifferenceType,
  sequential: boolean,
  error: StatsErrorCode,
): FrequentistResult {
  return {
    difference,
    estimate: 0,
    standardError: 0,
    ci: [0, 0],
    pValue: 1,
    statistic: 0,
    dof: 0,
    sequential,
    error,
  };
}

export function frequentistTest(
  a: UnitStatistic,
  b: UnitStatistic,
  opts: FrequentistOptions = {},
): FrequentistResult {
  const difference = opts.difference ?? 'relative';
  const alpha = opts.alpha ?? DEFAULT_ALPHA;
  const alternative = opts.alternative ?? 'two-sided';
  const testValue = opts.testValue ?? 0;
  const sequential = opts.sequentialTuning !== undefined;
  if (sequential && alternative !== 'two-sided') {
    throw new Error('sequential testing is two-sided only');
  }
  const error = guardPair(a, b, { difference, minUnits: opts.minUnits ?? DEFAULT_MIN_UNITS });
  if (error) return emptyResult(difference, sequential, error);

  const { estimate, variance } = effectMoments(a, b, difference);
  const se = safeSqrt(variance);
  if (!(se > 0)) return emptyResult(difference, sequential, 'ZERO_NEGATIVE_VARIANCE');
  const dof = welchDof(a, b);
  const statistic = (estimate - testValue) / se;

  let ci: [number, number];
  let pValue: number;
  if (sequential) {
    const n = a.n + b.n;
    const tuning = opts.sequentialTuning as number;
    const half = sequentialHalfWidth(variance * n, n, alpha, tuning);
    ci = [estimate - half, estimate + half];
    pValue = sequentialPValue(statistic * statistic, n, alpha, tuning);
  } else if (alternative === 'two-sided') {
    const half = studentTQuantile(1 - alpha / 2, dof) * se;
    ci = [estimate - half, estimate + half];
    pValue = 2 * studentTSf(Math.abs(statistic), dof);
  } else {
    const half = studentTQuantile(1 - alpha, dof) * se;
    if (alternative === 'greater') {
      ci = [estimate - half, Infinity];
      pValue = studentTSf(statistic, dof);
    } else {
      // gbstats 0.8.0 returns estimate - half here (a sign slip fixed in later gbstats).
      ci = [-Infinity, estimate + half];
      pValue = studentTCdf(statistic, dof);
    }
  }
  return { difference, estimate, standardError: se, ci, pValue, statistic, dof, sequential, error: null };
}
