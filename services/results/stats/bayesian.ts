/**
 * Bayesian engine (gbstats EffectBayesianABTest): a normal likelihood for the effect, combined
 * with a Gaussian prior on the effect; chance to win, credible interval and risk come from
 * the normal posterior.
 */
import { normalCdf, normalPdf, normalQuantile } from './distributions';
import {
  DEFAULT_MIN_UNITS,
  type DifferenceType,
  effectMoments,
  guardPair,
  safeSqrt,
  type StatsErrorCode,
} from './effects';
import type { UnitStatistic } from './metrics';

export interface GaussianPrior {
  /** Prior mean of the effect. */
  mean: number;
  /** Prior standard deviation of the effect. */
  stddev: number;
  /** false: flat (improper) prior, the posterior is the likelihood. */
  proper: boolean;
  /** Scale of mean and stddev: relative lift (default, as GrowthBook) or absolute units. */
  scale?: DifferenceType;
}

/**
 * gbstats' default is an improper flat prior (GaussianPrior(proper=False)). When a proper prior
 * is switched on, GrowthBook's organisation default is N(0, 0.3²) on the relative lift.
 */
export const DEFAULT_PRIOR: GaussianPrior = { mean: 0, stddev: 0.3, proper: false, scale: 'relative' };

export interface BayesianOptions {
  difference?: DifferenceType;
  prior?: GaussianPrior;
  /** Lower is better: chance to win counts decreases and the risks swap. */
  inverse?: boolean;
  /** The credible interval has mass 1 - alpha. Default 0.05. */
  alpha?: number;
  minUnits?: number;
}

export interface BayesianResult {
  difference: DifferenceType;
  /** Posterior mean of the effect. */
  expected: number;
  /** Posterior standard deviation. */
  stddev: number;
  /** Equal-tailed credible interval. */
  ci: [number, number];
  /** P(variant is better than baseline) under the posterior. */
  chanceToWin: number;
  /**
   * Expected loss in effect units: `control` if we keep the baseline (E[max(δ, 0)]),
   * `treatment` if we ship the variant (E[max(-δ, 0)]); swapped for inverse metrics.
   */
  risk: { control: number; treatment: number };
  error: StatsErrorCode | null;
}

/** E[max(X, 0)] for X ~ N(mu, sigma²): the closed form of gbstats' truncated-normal products. */
export function expectedPositivePart(mu: number, sigma: number): number {
  const z = mu / sigma;
  return mu * normalCdf(z) + sigma * normalPdf(z);
}

export function bayesianTest(a: UnitStatistic, b: UnitStatistic, opts: BayesianOptions = {}): BayesianResult {
  const difference = opts.difference ?? 'relative';
  const alpha = opts.alpha ?? 0.05;
  const inverse = opts.inverse ?? false;
  const error = guardPair(a, b, { difference, minUnits: opts.minUnits ?? DEFAULT_MIN_UNITS });
  if (error) {
    return {
      difference,
      expected: 0,
      stddev: 0,
      ci: [0, 0],
      chanceToWin: 0.5,
      risk: { control: 0, treatment: 0 },
      error,
    };
  }
  const { estimate, variance } = effectMoments(a, b, difference);

  // Bring the prior to the scale of the effect (gbstats rescales by the raw baseline mean).
  const prior = opts.prior ?? DEFAULT_PRIOR;
  const priorScale = prior.scale ?? 'relative';
  const base = a.unadjustedMean;
  let priorMean = prior.mean;
  let priorVariance = prior.stddev ** 2;
  if (difference === 'absolute' && priorScale === 'relative') {
    priorMean *= Math.abs(base);
    priorVariance *= base ** 2;
  } else if (difference === 'relative' && priorScale === 'absolute') {
    priorMean /= Math.abs(base);
    priorVariance /= base ** 2;
  }

  let expected = estimate;
  let precision = 1 / variance;
  if (prior.proper) {
    precision += 1 / priorVariance;
    expected = (estimate / variance + priorMean / priorVariance) / precision;
  }
  const stddev = safeSqrt(1 / precision);

  // Each side from its own tail so a chance near 0 keeps its precision.
  const chanceToWin = normalCdf((inverse ? -expected : expected) / stddev);
  const ci: [number, number] = [
    expected + stddev * normalQuantile(alpha / 2),
    expected + stddev * normalQuantile(1 - alpha / 2),
  ];
  const lossIfControl = expectedPositivePart(expected, stddev);
  const lossIfTreatment = expectedPositivePart(-expected, stddev);
  const risk = inverse
    ? { control: lossIfTreatment, treatment: lossIfControl }
    : { control: lossIfControl, treatment: lossIfTreatment };
  return { difference, expected, stddev, ci, chanceToWin, risk, error: null };
}
