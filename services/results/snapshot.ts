// One refresh of one experiment, as data: the statistics core's analysis of the facts turned
// into the experiment_results records (one per metric and variant) and the registry summary.
// Pure: the same facts, settings and time give byte-identical records and the same ids.
import { createHash } from 'node:crypto';
import type { ResultsSummary } from '../common/results-summary';
import type { ExperimentFacts } from './facts';
import {
  analyzeExperiment,
  decide,
  type AnalysisSettings,
  type Comparison,
  type Decision,
  type ExperimentAnalysis,
} from './stats';
import { experimentInput } from './facts';

/** One row of experiment_results (schemas/experiment-result.avsc). */
export interface ExperimentResultRecord {
  snapshotId: string;
  snapshotAt: number;
  experimentKey: string;
  phase: number;
  metric: string;
  metricRole: string;
  aggregation: string;
  variationId: string;
  baselineVariationId: string;
  isBaseline: boolean;
  weight: number;
  units: number;
  excludedUnits: number;
  unitsInProgress: number;
  convertedUnits: number;
  mean: number | null;
  stddev: number | null;
  engine: string;
  alpha: number;
  sequential: boolean;
  sequentialTuning: number | null;
  cuped: boolean;
  correction: string | null;
  lift: number | null;
  liftCiLower: number | null;
  liftCiUpper: number | null;
  liftStandardError: number | null;
  absoluteEffect: number | null;
  absoluteCiLower: number | null;
  absoluteCiUpper: number | null;
  pValue: number | null;
  pValueAdjusted: number | null;
  ciAdjustedLower: number | null;
  ciAdjustedUpper: number | null;
  statistic: number | null;
  dof: number | null;
  significant: boolean | null;
  chanceToWin: number | null;
  bayesExpected: number | null;
  credibleLower: number | null;
  credibleUpper: number | null;
  riskBaseline: number | null;
  riskVariant: number | null;
  cupedTheta: number | null;
  cupedVarianceReduction: number | null;
  observedPower: number | null;
  detectableEffect: number | null;
  guardrailFailed: boolean;
  statsError: string | null;
  srmPValue: number;
  srmWarning: boolean;
  multipleExposureUnits: number;
  multipleExposureShare: number;
  multipleExposureWarning: boolean;
  decisionVerdict: string;
  decisionSentence: string;
}

export interface SnapshotSettings {
  analysis: AnalysisSettings;
  /** Share of exposed units seen in several variants above which the report warns. */
  multipleExposureThreshold: number;
  /** Power below which a null result is called underpowered. */
  underpoweredBelow: number;
}

export interface Snapshot {
  records: ExperimentResultRecord[];
  summary: ResultsSummary;
  analysis: ExperimentAnalysis;
  decision: Decision;
}

/** Statistics BigQuery and JSON cannot carry (NaN, ±Infinity) become null. */
const finite = (x: number | null | undefined): number | null =>
  x === null || x === undefined || !Number.isFinite(x) ? null : x;

/** Same inputs, same id: a refresh re-delivered by Kafka, or replayed, stores one row per id. */
export function snapshotId(experimentKey: string, phase: number, snapshotAt: number): string {
  return createHash('sha256')
    .update(JSON.stringify([experimentKey, phase, snapshotAt]))
    .digest('hex');
}

/** Significance as the engine the decision reads sees it. */
export function isSignificant(c: Comparison, a: ExperimentAnalysis, winThreshold = 0.95): boolean {
  if (c.frequentist.error !== null) return false;
  if (a.settings.engine === 'bayesian') {
    return c.bayesian.chanceToWin >= winThreshold || c.bayesian.chanceToWin <= 1 - winThreshold;
  }
  return (c.pValueAdjusted ?? c.frequentist.pValue) < a.settings.alpha;
}

export function buildSnapshot(
  facts: ExperimentFacts,
  settings: SnapshotSettings,
  snapshotAt: number,
): Snapshot {
  const analysis = analyzeExperiment(experimentInput(facts, settings.analysis));
  const s = analysis.settings;
  const names = facts.variants.map((v) => v.key);
  const primary = facts.metrics.find((m) => m.role === 'primary') ?? facts.metrics[0];
  const decision: Decision = primary
    ? decide({ analysis, primaryMetric: primary.id, variantNames: names })
    : {
        verdict: 'keep-running',
        variant: null,
        sentence: 'No results yet: the experiment declares no metric to analyse.',
      };
  const id = snapshotId(facts.experimentKey, facts.phase, snapshotAt);
  const excluded = facts.variants.reduce((n, v) => n + v.excludedUnits, 0);
  const exposed = facts.variants.reduce((n, v) => n + v.units, 0) + excluded;
  const share = exposed > 0 ? excluded / exposed : 0;
  const multipleWarning = share > settings.multipleExposureThreshold;
  const relative = s.difference === 'relative';

  const records: ExperimentResultRecord[] = [];
  analysis.metrics.forEach((m, mi) => {
    const f = facts.metrics[mi]!;
    facts.variants.forEach((v, vi) => {
      const c = vi === 0 ? undefined : m.comparisons[vi - 1];
      const rel = c ? (relative ? c.frequentist : c.frequentistOther) : undefined;
      const abs = c ? (relative ? c.frequentistOther : c.frequentist) : undefined;
      const valid = c !== undefined && c.frequentist.error === null;
      const stat = m.variants[vi]!;
      records.push({
        snapshotId: id,
        snapshotAt,
        experimentKey: facts.experimentKey,
        phase: facts.phase,
        metric: f.id,
        metricRole: f.role,
        aggregation: f.aggregation,
        variationId: v.key,
        baselineVariationId: names[0]!,
        isBaseline: vi === 0,
        weight: v.weight,
        units: stat.n,
        excludedUnits: v.excludedUnits,
        unitsInProgress: f.unitsInProgress[vi] ?? 0,
        convertedUnits: f.convertedUnits[vi] ?? 0,
        mean: finite(stat.mean),
        stddev: finite(stat.stddev),
        engine: s.engine,
        alpha: s.alpha,
        sequential: s.sequentialTuning !== undefined,
        sequentialTuning: s.sequentialTuning ?? null,
        cuped: s.cuped,
        correction: s.correction ?? null,
        lift: valid ? finite(rel!.estimate) : null,
        liftCiLower: valid ? finite(rel!.ci[0]) : null,
        liftCiUpper: valid ? finite(rel!.ci[1]) : null,
        liftStandardError: valid ? finite(rel!.standardError) : null,
        absoluteEffect: valid ? finite(abs!.estimate) : null,
        absoluteCiLower: valid ? finite(abs!.ci[0]) : null,
        absoluteCiUpper: valid ? finite(abs!.ci[1]) : null,
        pValue: valid ? finite(c.frequentist.pValue) : null,
        pValueAdjusted: valid ? finite(c.pValueAdjusted) : null,
        ciAdjustedLower: valid ? finite(c.ciAdjusted?.[0]) : null,
        ciAdjustedUpper: valid ? finite(c.ciAdjusted?.[1]) : null,
        statistic: valid ? finite(c.frequentist.statistic) : null,
        dof: valid ? finite(c.frequentist.dof) : null,
        significant: c ? isSignificant(c, analysis) : null,
        chanceToWin: valid ? finite(c.bayesian.chanceToWin) : null,
        bayesExpected: valid ? finite(c.bayesian.expected) : null,
        credibleLower: valid ? finite(c.bayesian.ci[0]) : null,
        credibleUpper: valid ? finite(c.bayesian.ci[1]) : null,
        riskBaseline: valid ? finite(c.bayesian.risk.control) : null,
        riskVariant: valid ? finite(c.bayesian.risk.treatment) : null,
        cupedTheta: c ? finite(c.cupedTheta) : null,
        cupedVarianceReduction: c ? finite(c.cupedVarianceReduction) : null,
        observedPower: valid ? finite(c.observedPower) : null,
        detectableEffect: valid ? finite(c.detectableEffect) : null,
        guardrailFailed: c?.guardrailFailed ?? false,
        statsError: c?.frequentist.error ?? null,
        srmPValue: analysis.srm.pValue,
        srmWarning: analysis.srm.warning,
        multipleExposureUnits: excluded,
        multipleExposureShare: share,
        multipleExposureWarning: multipleWarning,
        decisionVerdict: decision.verdict,
        decisionSentence: decision.sentence,
      });
    });
  });

  const byMetric = (id: string) => records.filter((r) => r.metric === id);
  // Power of the primary comparison nearest to significance: the one a reader of a null result asks about.
  const primaryRows = primary
    ? byMetric(primary.id).filter((r) => !r.isBaseline && r.statsError === null)
    : [];
  const closest = primaryRows.sort((a, b) => (a.pValue ?? 1) - (b.pValue ?? 1))[0];
  const observed = closest?.observedPower ?? null;
  const summary: ResultsSummary = {
    experimentKey: facts.experimentKey,
    phase: facts.phase,
    snapshotId: id,
    snapshotAt: new Date(snapshotAt).toISOString(),
    settings: {
      engine: s.engine,
      alpha: s.alpha,
      sequential: s.sequentialTuning !== undefined,
      cuped: s.cuped,
      correction: s.correction ?? null,
    },
    decision: {
      verdict: decision.verdict,
      variationId: decision.variant === null ? null : (names[decision.variant] ?? null),
      sentence: decision.sentence,
    },
    variants: facts.variants.map((v) => ({
      variationId: v.key,
      weight: v.weight,
      units: v.units,
      excludedUnits: v.excludedUnits,
    })),
    health: {
      srm: { pValue: analysis.srm.pValue, warning: analysis.srm.warning },
      multipleExposures: { units: excluded, share, warning: multipleWarning },
      power: {
        observed,
        detectableEffect: closest?.detectableEffect ?? null,
        underpowered: observed !== null && observed < settings.underpoweredBelow && !closest?.significant,
      },
    },
    metrics: facts.metrics.map((f) => ({
      id: f.id,
      role: f.role,
      aggregation: f.aggregation,
      inverse: f.inverse,
      variants: byMetric(f.id).map((r) => ({ variationId: r.variationId, units: r.units, mean: r.mean })),
      comparisons: byMetric(f.id)
        .filter((r) => !r.isBaseline)
        .map((r) => ({
          variationId: r.variationId,
          // The interval readers act on: the corrected one when a correction is configured.
          lift: r.lift,
          liftCiLower: (relative ? r.ciAdjustedLower : null) ?? r.liftCiLower,
          liftCiUpper: (relative ? r.ciAdjustedUpper : null) ?? r.liftCiUpper,
          absoluteEffect: r.absoluteEffect,
          pValue: r.pValue,
          pValueAdjusted: r.pValueAdjusted,
          chanceToWin: r.chanceToWin,
          significant: r.significant ?? false,
          guardrailFailed: r.guardrailFailed,
          observedPower: r.observedPower,
          detectableEffect: r.detectableEffect,
          error: r.statsError,
        })),
    })),
  };
  return { records, summary, analysis, decision };
}
