/**
 * One experiment's results from its sufficient statistics: every variant against the baseline
 * for every metric, with both engines, SRM, multiple-testing adjustment and guardrail flags.
 */
import { type BayesianResult, type GaussianPrior, bayesianTest } from './bayesian';
import { DEFAULT_MIN_UNITS, type DifferenceType } from './effects';
import { type Alternative, DEFAULT_ALPHA, type FrequentistResult, frequentistTest } from './frequentist';
import {
  type MetricDefinition,
  type VariantSums,
  pairStatistics,
  varianceReduction,
  variantStatistic,
} from './metrics';
import { adjustedInterval, adjustPValues, type Correction } from './multiple-testing';
import { detectableEffect, DEFAULT_TARGET_POWER, powerFromStandardError } from './power';
import { DEFAULT_SRM_THRESHOLD, srmTest, type SrmResult } from './srm';

export type Engine = 'frequentist' | 'bayesian';

export interface AnalysisSettings {
  /** Engine the decision reads (both are always computed). Default frequentist. */
  engine?: Engine;
  /** Difference used for p-values, chance to win and the decision. Default relative. */
  difference?: DifferenceType;
  alpha?: number;
  alternative?: Alternative;
  /** Sequential testing tuning parameter; off when absent. */
  sequentialTuning?: number;
  cuped?: boolean;
  prior?: GaussianPrior;
  minUnits?: number;
  correction?: Correction | null;
  srmThreshold?: number;
  /** Power is reported for detecting this relative effect (default: the observed one). */
  targetPower?: number;
}

export interface MetricInput {
  id: string;
  definition: MetricDefinition;
  /** Guardrails are flagged when they move the wrong way and are left out of the correction. */
  guardrail?: boolean;
  /** Index 0 is the baseline. */
  variants: VariantSums[];
}

export interface VariantSummary {
  n: number;
  mean: number;
  stddev: number;
}

export interface Comparison {
  /** Index of the variant compared with the baseline. */
  variant: number;
  /** Frequentist result on the configured difference scale. */
  frequentist: FrequentistResult;
  /** The other scale, so readers get both absolute and relative effects. */
  frequentistOther: FrequentistResult;
  bayesian: BayesianResult;
  /** CUPED slope (0 without CUPED) and the share of variance it removed in the variant. */
  cupedTheta: number;
  cupedVarianceReduction: number;
  /** Power of this comparison to detect an effect as large as the observed one. */
  observedPower: number;
  /** Effect detectable with targetPower at this sample size (same scale as `frequentist`). */
  detectableEffect: number;
  pValueAdjusted: number | null;
  ciAdjusted: [number, number] | null;
  /** Guardrail moving significantly (or with chance to win below alpha) in the harmful direction. */
  guardrailFailed: boolean;
}

export interface MetricAnalysis {
  id: string;
  guardrail: boolean;
  inverse: boolean;
  variants: VariantSummary[];
  comparisons: Comparison[];
}

export interface ExperimentAnalysis {
  settings: Required<Omit<AnalysisSettings, 'sequentialTuning' | 'prior' | 'correction'>> &
    Pick<AnalysisSettings, 'sequentialTuning' | 'prior' | 'correction'>;
  srm: SrmResult;
  metrics: MetricAnalysis[];
}

function resolve(s: AnalysisSettings): ExperimentAnalysis['settings'] {
  return {
    engine: s.engine ?? 'frequentist',
    difference: s.difference ?? 'relative',
    alpha: s.alpha ?? DEFAULT_ALPHA,
    alternative: s.alternative ?? 'two-sided',
    cuped: s.cuped ?? false,
    minUnits: s.minUnits ?? DEFAULT_MIN_UNITS,
    srmThreshold: s.srmThreshold ?? DEFAULT_SRM_THRESHOLD,
    targetPower: s.targetPower ?? DEFAULT_TARGET_POWER,
    sequentialTuning: s.sequentialTuning,
    prior: s.prior,
    correction: s.correction ?? null,
  };
}

export function analyzeMetric(metric: MetricInput, settings: AnalysisSettings = {}): MetricAnalysis {
  const s = resolve(settings);
  const [base, ...others] = metric.variants;
  if (!base) throw new Error(`metric ${metric.id}: no variants`);
  const inverse = metric.definition.inverse ?? false;
  const variants = metric.variants.map((v) => {
    const st = variantStatistic(metric.definition, v);
    return { n: st.n, mean: st.mean, stddev: Math.sqrt(st.variance) };
  });
  const other: DifferenceType = s.difference === 'relative' ? 'absolute' : 'relative';
  const comparisons = others.map((v, i): Comparison => {
    const pair = pairStatistics(metric.definition, base, v, s.cuped);
    const common = { alpha: s.alpha, minUnits: s.minUnits, sequentialTuning: s.sequentialTuning };
    const alternative = s.sequentialTuning === undefined ? s.alternative : 'two-sided';
    const frequentist = frequentistTest(pair.a, pair.b, { ...common, alternative, difference: s.difference });
    const frequentistOther = frequentistTest(pair.a, pair.b, { ...common, alternative, difference: other });
    const bayesian = bayesianTest(pair.a, pair.b, {
      difference: s.difference,
      alpha: s.alpha,
      minUnits: s.minUnits,
      inverse,
      prior: s.prior,
    });
    const se = frequentist.standardError;
    const harmful = inverse ? frequentist.estimate > 0 : frequentist.estimate < 0;
    const guardrailFailed =
      (metric.guardrail ?? false) &&
      frequentist.error === null &&
      (s.engine === 'frequentist' ? harmful && frequentist.pValue < s.alpha : bayesian.chanceToWin < s.alpha);
    return {
      variant: i + 1,
      frequentist,
      frequentistOther,
      bayesian,
      cupedTheta: pair.theta,
      cupedVarianceReduction: pair.theta
        ? varianceReduction(variantStatistic(metric.definition, v), pair.b)
        : 0,
      observedPower: se > 0 ? powerFromStandardError(frequentist.estimate, se, s.alpha) : NaN,
      detectableEffect: se > 0 ? detectableEffect(se, s.alpha, s.targetPower) : NaN,
      pValueAdjusted: null,
      ciAdjusted: null,
      guardrailFailed,
    };
  });
  return { id: metric.id, guardrail: metric.guardrail ?? false, inverse, variants, comparisons };
}

export interface ExperimentInput {
  /** Exposed units per variant (index 0 baseline) and the configured weights. */
  units: number[];
  weights: number[];
  metrics: MetricInput[];
  settings?: AnalysisSettings;
}

export function analyzeExperiment(input: ExperimentInput): ExperimentAnalysis {
  const settings = resolve(input.settings ?? {});
  const srm = srmTest(input.units, input.weights, settings.srmThreshold);
  const metrics = input.metrics.map((m) => analyzeMetric(m, settings));
  if (settings.correction) {
    // One family: every non-guardrail metric × variant with a valid p-value (as GrowthBook).
    const family = metrics
      .filter((m) => !m.guardrail)
      .flatMap((m) => m.comparisons.filter((c) => c.frequentist.error === null));
    const adjusted = adjustPValues(
      family.map((c) => c.frequentist.pValue),
      settings.correction,
    );
    family.forEach((c, i) => {
      c.pValueAdjusted = adjusted[i]!;
      c.ciAdjusted =
        adjustedInterval(c.frequentist.estimate, c.pValueAdjusted, settings.alpha) ?? c.frequentist.ci;
    });
  }
  return { settings, srm, metrics };
}
