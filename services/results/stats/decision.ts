/**
 * The decision in one plain sentence, for readers who are not statisticians. Order of checks:
 * broken traffic split (SRM) first, then failing guardrails, then the primary metric.
 */
import type { Comparison, ExperimentAnalysis, MetricAnalysis } from './analysis';

export type Verdict = 'ship' | 'do-not-ship' | 'keep-running' | 'invalid';

export interface DecisionInput {
  analysis: ExperimentAnalysis;
  primaryMetric: string;
  /** Variant names, index 0 the baseline. */
  variantNames: string[];
  /** How the metric reads in a sentence, e.g. "orders" (default: the metric id). */
  metricLabel?: string;
  /** Bayesian engine: chance to win needed to call a winner (default 0.95). */
  winThreshold?: number;
}

export interface Decision {
  verdict: Verdict;
  /** Index of the variant the sentence is about, when there is one. */
  variant: number | null;
  sentence: string;
}

const pct = (x: number, signed = false): string => {
  const v = Math.round(x * 100);
  return `${signed && v > 0 ? '+' : ''}${v}%`;
};

function level(alpha: number): string {
  return `${Math.round((1 - alpha) * 100)}%`;
}

interface Reading {
  c: Comparison;
  good: boolean;
  bad: boolean;
  ci: [number, number];
}

/** Significant (or confident) and in which direction, honouring corrections and inverse metrics. */
function read(m: MetricAnalysis, c: Comparison, a: ExperimentAnalysis, winThreshold: number): Reading {
  const f = c.frequentist;
  const up = m.inverse ? f.estimate < 0 : f.estimate > 0;
  if (a.settings.engine === 'bayesian') {
    const p = c.bayesian.chanceToWin;
    return { c, good: p >= winThreshold, bad: p <= 1 - winThreshold, ci: c.bayesian.ci };
  }
  const p = c.pValueAdjusted ?? f.pValue;
  const significant = f.error === null && p < a.settings.alpha;
  return { c, good: significant && up, bad: significant && !up, ci: c.ciAdjusted ?? f.ci };
}

function describeEffect(r: Reading, a: ExperimentAnalysis): { verb: string; size: string; interval: string } {
  const relative = a.settings.difference === 'relative';
  const est = a.settings.engine === 'bayesian' ? r.c.bayesian.expected : r.c.frequentist.estimate;
  const fmt = (x: number, signed = false) =>
    relative ? pct(x, signed) : (signed && x > 0 ? '+' : '') + x.toPrecision(3);
  const kind = a.settings.engine === 'bayesian' ? 'credible interval' : 'CI';
  const lo = Number.isFinite(r.ci[0]) ? fmt(r.ci[0], true) : '-∞';
  const hi = Number.isFinite(r.ci[1]) ? fmt(r.ci[1], true) : '+∞';
  return {
    verb: est >= 0 ? 'raises' : 'lowers',
    size: relative ? pct(Math.abs(est)) : fmt(Math.abs(est)),
    interval: `(${level(a.settings.alpha)} ${kind} ${lo} to ${hi})`,
  };
}

export function decide(input: DecisionInput): Decision {
  const { analysis: a, variantNames } = input;
  const winThreshold = input.winThreshold ?? 0.95;
  const name = (i: number) => variantNames[i] ?? `variant ${i}`;
  if (a.srm.warning) {
    return {
      verdict: 'invalid',
      variant: null,
      sentence: `Do not trust these results: the traffic split does not match the configured weights (SRM p = ${a.srm.pValue.toPrecision(2)}); fix assignment or tracking first.`,
    };
  }
  const primary = a.metrics.find((m) => m.id === input.primaryMetric);
  if (!primary) throw new Error(`decision: no results for primary metric ${input.primaryMetric}`);
  const label = input.metricLabel ?? primary.id;

  const readings = primary.comparisons.map((c) => read(primary, c, a, winThreshold));
  const winners = readings.filter((r) => r.good);
  const failing = a.metrics.flatMap((m) =>
    m.guardrail ? m.comparisons.filter((c) => c.guardrailFailed).map((c) => ({ m, c })) : [],
  );

  if (winners.length > 0) {
    // The best-looking winner on the primary metric.
    const best = winners.reduce((x, y) =>
      (primary.inverse ? -1 : 1) * (y.c.frequentist.estimate - x.c.frequentist.estimate) > 0 ? y : x,
    );
    const e = describeEffect(best, a);
    const hurt = failing.filter((f) => f.c.variant === best.c.variant);
    if (hurt.length > 0) {
      const g = hurt[0]!;
      return {
        verdict: 'do-not-ship',
        variant: best.c.variant,
        sentence: `${name(best.c.variant)} ${e.verb} ${label} by ${e.size} ${e.interval} but hurts the guardrail ${g.m.id}; do not ship it as is.`,
      };
    }
    return {
      verdict: 'ship',
      variant: best.c.variant,
      sentence: `${name(best.c.variant)} ${e.verb} ${label} by ${e.size} ${e.interval}; ship it.`,
    };
  }
  const losers = readings.filter((r) => r.bad);
  if (losers.length === readings.length && losers.length > 0) {
    const r = losers[0]!;
    const e = describeEffect(r, a);
    const who = losers.length === 1 ? name(r.c.variant) : 'every variant';
    return {
      verdict: 'do-not-ship',
      variant: r.c.variant,
      sentence: `${who} ${e.verb} ${label}${losers.length === 1 ? ` by ${e.size} ${e.interval}` : ''}; keep ${name(0)}.`,
    };
  }
  const errored = primary.comparisons.find((c) => c.frequentist.error === 'TOO_FEW_UNITS');
  if (errored) {
    return {
      verdict: 'keep-running',
      variant: null,
      sentence: `Not enough evidence yet: too few units so far to analyse ${label}; keep the experiment running.`,
    };
  }
  const detectable = primary.comparisons.map((c) => c.detectableEffect).filter((x) => Number.isFinite(x));
  const mde = detectable.length ? Math.max(...detectable) : NaN;
  const tail =
    Number.isFinite(mde) && a.settings.difference === 'relative'
      ? ` (so far it could reliably detect only changes of about ${pct(mde)} or more)`
      : '';
  return {
    verdict: 'keep-running',
    variant: null,
    sentence: `Not enough evidence yet: no variant clearly changes ${label}${tail}; keep running or stop and keep ${name(0)}.`,
  };
}
