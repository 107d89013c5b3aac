/**
 * From per-variant sufficient statistics to per-unit means and variances, the way gbstats'
 * statistic classes do it (ProportionStatistic, SampleMeanStatistic, RatioStatistic,
 * RegressionAdjustedStatistic). No inference here; see frequentist.ts and bayesian.ts.
 */

/**
 * How one column of per-unit values is summarised. `binomial`: 0/1 per unit, variance p(1-p)
 * (population form, as gbstats). `count`: any non-negative or real value per unit (counts,
 * sums, revenue), sample variance with n - 1.
 */
export type ComponentType = 'binomial' | 'count';

/**
 * Metric types. `binomial`: conversion (did the unit convert). `count`: events per unit.
 * `mean`: a per-unit sum or mean value (revenue per user); statistically the same as `count`.
 * `ratio`: sum of a numerator over sum of a denominator (e.g. revenue per order), analysed with
 * the delta method because numerator and denominator vary per unit.
 */
export type MetricType = 'binomial' | 'count' | 'mean' | 'ratio';

/** Sufficient statistics for one variant of one metric, over its exposed units. */
export interface VariantSums {
  /** Units (users) exposed to the variant. */
  n: number;
  /** Σ of the per-unit metric value (the numerator, for a ratio metric). */
  sum: number;
  /** Σ of its squares (ignored for binomial, where it equals sum). */
  sumSquares: number;
  /** Ratio metrics: Σ denominator, Σ denominator², Σ numerator·denominator. */
  denominatorSum?: number;
  denominatorSumSquares?: number;
  mainDenominatorSumProduct?: number;
  /** CUPED: Σ of the same metric before exposure, Σ of its squares, Σ post·pre. */
  covariateSum?: number;
  covariateSumSquares?: number;
  mainCovariateSumProduct?: number;
}

export interface MetricDefinition {
  type: MetricType;
  /** For ratio metrics: how the numerator and denominator are summarised (default count). */
  numeratorType?: ComponentType;
  denominatorType?: ComponentType;
  /** Lower is better (e.g. latency, churn): chance to win and risk are flipped. */
  inverse?: boolean;
}

/** What the tests consume: per-unit mean and variance of one variant. */
export interface UnitStatistic {
  n: number;
  /** Mean used for the effect (CUPED-adjusted when CUPED is on). */
  mean: number;
  /** Raw mean; the denominator of relative effects and the value reported to readers. */
  unadjustedMean: number;
  /** Per-unit variance (divide by n for the variance of the mean); never negative. */
  variance: number;
}

interface Moments {
  n: number;
  sum: number;
  sumSquares: number;
  type: ComponentType;
}

const meanOf = (m: Moments): number => (m.n === 0 ? 0 : m.sum / m.n);

/** Per-unit variance; rounding can make Σx² - (Σx)²/n slightly negative, so clamp at 0. */
export function componentVariance(m: Moments): number {
  if (m.type === 'binomial') {
    const p = meanOf(m);
    return Math.max(0, p * (1 - p));
  }
  if (m.n <= 1) return 0;
  return Math.max(0, (m.sumSquares - (m.sum * m.sum) / m.n) / (m.n - 1));
}

/** Sample covariance of two per-unit columns from Σxy and the sums. */
export function sampleCovariance(n: number, sumX: number, sumY: number, sumXY: number): number {
  if (n <= 1) return 0;
  return (sumXY - (sumX * sumY) / n) / (n - 1);
}

function mainType(def: MetricDefinition): ComponentType {
  if (def.type === 'binomial') return 'binomial';
  if (def.type === 'ratio') return def.numeratorType ?? 'count';
  return 'count';
}

function mainMoments(def: MetricDefinition, v: VariantSums): Moments {
  const type = mainType(def);
  return { n: v.n, sum: v.sum, sumSquares: type === 'binomial' ? v.sum : v.sumSquares, type };
}

function covariateMoments(def: MetricDefinition, v: VariantSums): Moments {
  // The covariate is the same metric before exposure, so it has the same type.
  const type = mainType(def);
  const sum = v.covariateSum ?? 0;
  return { n: v.n, sum, sumSquares: type === 'binomial' ? sum : (v.covariateSumSquares ?? 0), type };
}

function need(value: number | undefined, field: string): number {
  if (value === undefined || !Number.isFinite(value)) {
    throw new Error(`sufficient statistics: ${field} is required and must be finite`);
  }
  return value;
}

/** Delta-method per-unit variance of a ratio Σm/Σd (gbstats RatioStatistic). */
function ratioStatistic(def: MetricDefinition, v: VariantSums): UnitStatistic {
  const dType = def.denominatorType ?? 'count';
  const dSum = need(v.denominatorSum, 'denominatorSum');
  const m = mainMoments(def, v);
  const d: Moments = {
    n: v.n,
    sum: dSum,
    sumSquares: dType === 'binomial' ? dSum : need(v.denominatorSumSquares, 'denominatorSumSquares'),
    type: dType,
  };
  const mean = dSum === 0 ? 0 : m.sum / dSum;
  const muM = meanOf(m);
  const muD = meanOf(d);
  let variance = 0;
  if (muD !== 0 && v.n > 1) {
    const cov = sampleCovariance(
      v.n,
      m.sum,
      d.sum,
      need(v.mainDenominatorSumProduct, 'mainDenominatorSumProduct'),
    );
    variance =
      componentVariance(m) / muD ** 2 -
      (2 * cov * muM) / muD ** 3 +
      (muM ** 2 * componentVariance(d)) / muD ** 4;
  }
  return { n: v.n, mean, unadjustedMean: mean, variance: Math.max(0, variance) };
}

/** Per-variant statistic without CUPED. */
export function variantStatistic(def: MetricDefinition, v: VariantSums): UnitStatistic {
  if (def.type === 'ratio') return ratioStatistic(def, v);
  const m = mainMoments(def, v);
  const mean = meanOf(m);
  return { n: v.n, mean, unadjustedMean: mean, variance: componentVariance(m) };
}

/**
 * CUPED slope θ = Cov(post, pre) / Var(pre) over both variants pooled (gbstats compute_theta).
 * 0 when either pooled variance is 0, which turns CUPED off for the pair.
 */
export function cupedTheta(def: MetricDefinition, a: VariantSums, b: VariantSums): number {
  const n = a.n + b.n;
  const pooled = (x: Moments, y: Moments): Moments => ({
    n,
    sum: x.sum + y.sum,
    sumSquares: x.sumSquares + y.sumSquares,
    type: x.type,
  });
  const post = pooled(mainMoments(def, a), mainMoments(def, b));
  const pre = pooled(covariateMoments(def, a), covariateMoments(def, b));
  const preVariance = componentVariance(pre);
  if (preVariance === 0 || componentVariance(post) === 0) return 0;
  const sumProducts =
    need(a.mainCovariateSumProduct, 'mainCovariateSumProduct') +
    need(b.mainCovariateSumProduct, 'mainCovariateSumProduct');
  return sampleCovariance(n, post.sum, pre.sum, sumProducts) / preVariance;
}

/** Regression-adjusted statistic Y - θX: mean and per-unit variance (gbstats RegressionAdjustedStatistic). */
export function cupedStatistic(def: MetricDefinition, v: VariantSums, theta: number): UnitStatistic {
  const post = mainMoments(def, v);
  const pre = covariateMoments(def, v);
  const unadjustedMean = meanOf(post);
  const mean = unadjustedMean - theta * meanOf(pre);
  let variance = 0;
  if (v.n > 1) {
    const cov = sampleCovariance(v.n, post.sum, pre.sum, v.mainCovariateSumProduct ?? 0);
    variance = componentVariance(post) + theta ** 2 * componentVariance(pre) - 2 * theta * cov;
  }
  return { n: v.n, mean, unadjustedMean, variance: Math.max(0, variance) };
}

export interface PairStatistics {
  a: UnitStatistic;
  b: UnitStatistic;
  /** CUPED slope used (0 when CUPED is off or had no variance to work with). */
  theta: number;
}

/**
 * Baseline `a` and variant `b` ready for a test. With `cuped`, both are adjusted with one θ
 * estimated on the pooled sample; ratio metrics are never CUPED-adjusted here.
 */
export function pairStatistics(
  def: MetricDefinition,
  a: VariantSums,
  b: VariantSums,
  cuped = false,
): PairStatistics {
  if (cuped && def.type !== 'ratio') {
    const theta = cupedTheta(def, a, b);
    if (theta !== 0) return { a: cupedStatistic(def, a, theta), b: cupedStatistic(def, b, theta), theta };
  }
  return { a: variantStatistic(def, a), b: variantStatistic(def, b), theta: 0 };
}

/** The variance reduction CUPED achieved for a variant: 1 - Var(adjusted) / Var(raw). */
export function varianceReduction(raw: UnitStatistic, adjusted: UnitStatistic): number {
  return raw.variance > 0 ? 1 - adjusted.variance / raw.variance : 0;
}
