// The one-sentence decision and the experiment-level analysis it reads.
import {
  analyzeExperiment,
  decide,
  type AnalysisSettings,
  type MetricInput,
  type VariantSums,
} from '../../../services/results/stats';

const conv = (n: number, k: number): VariantSums => ({ n, sum: k, sumSquares: k });
const metric = (id: string, variants: VariantSums[], extra: Partial<MetricInput> = {}): MetricInput => ({
  id,
  definition: { type: 'binomial' },
  variants,
  ...extra,
});
const run = (
  units: number[],
  metrics: MetricInput[],
  settings: AnalysisSettings = {},
  names = ['blue', 'green'],
) =>
  decide({
    analysis: analyzeExperiment({ units, weights: units.map(() => 1), metrics, settings }),
    primaryMetric: metrics[0]!.id,
    variantNames: names,
  });

describe('decision sentence', () => {
  it('says not enough evidence when nothing is significant, with what the test could detect', () => {
    const d = run([2000, 2000], [metric('orders', [conv(2000, 200), conv(2000, 210)])]);
    expect(d.verdict).toBe('keep-running');
    expect(d.sentence).toMatch(
      /^Not enough evidence yet: no variant clearly changes orders \(.*about \d+% or more\)/,
    );
  });

  it('puts a broken traffic split before any effect', () => {
    const d = run([2505, 2100], [metric('orders', [conv(2505, 274), conv(2100, 333)])]);
    expect(d.verdict).toBe('invalid');
    expect(d.sentence).toMatch(/^Do not trust these results: .*SRM p = /);
  });

  it('says do not ship when the variant loses', () => {
    const d = run([2500, 2500], [metric('orders', [conv(2500, 333), conv(2500, 274)])]);
    expect(d.verdict).toBe('do-not-ship');
    expect(d.sentence).toMatch(/^green lowers orders by 18% \(95% CI -\d+% to -\d+%\); keep blue\.$/);
  });

  it('treats a drop as a win for an inverse metric (lower is better)', () => {
    const churn = metric('churn', [conv(2500, 333), conv(2500, 274)], {
      definition: { type: 'binomial', inverse: true },
    });
    const d = run([2500, 2500], [churn]);
    expect(d.verdict).toBe('ship');
    expect(d.sentence).toMatch(/^green lowers churn by 18% .*; ship it\.$/);
  });

  it('blocks a winner that fails a guardrail', () => {
    const orders = metric('orders', [conv(2505, 274), conv(2495, 333)]);
    const errors = metric('errors', [conv(2505, 50), conv(2495, 120)], {
      guardrail: true,
      definition: { type: 'binomial', inverse: true },
    });
    const d = run([2505, 2495], [orders, errors]);
    expect(d.verdict).toBe('do-not-ship');
    expect(d.sentence).toContain('hurts the guardrail errors');
  });

  it('waits for data below the minimum sample', () => {
    const d = run([12, 12], [metric('orders', [conv(12, 2), conv(12, 6)])]);
    expect(d.verdict).toBe('keep-running');
    expect(d.sentence).toContain('too few units');
  });

  it('reads the Bayesian engine with a credible interval and chance to win', () => {
    const d = run([2505, 2495], [metric('orders', [conv(2505, 274), conv(2495, 333)])], {
      engine: 'bayesian',
    });
    expect(d.verdict).toBe('ship');
    expect(d.sentence).toBe('green raises orders by 22% (95% credible interval +4% to +40%); ship it.');
  });
});

describe('experiment analysis', () => {
  const metrics = [
    metric('orders', [conv(2505, 274), conv(2495, 333), conv(2500, 280)]),
    metric('signups', [conv(2505, 500), conv(2495, 540), conv(2500, 470)]),
    metric('errors', [conv(2505, 50), conv(2495, 52), conv(2500, 49)], { guardrail: true }),
  ];
  const units = [2505, 2495, 2500];

  it('corrects p-values across metrics and variants, leaving guardrails out', () => {
    const a = analyzeExperiment({
      units,
      weights: [1, 1, 1],
      metrics,
      settings: { correction: 'holm-bonferroni' },
    });
    const family = a.metrics.filter((m) => !m.guardrail).flatMap((m) => m.comparisons);
    expect(family).toHaveLength(4);
    for (const c of family) {
      expect(c.pValueAdjusted).not.toBeNull();
      expect(c.pValueAdjusted!).toBeGreaterThanOrEqual(c.frequentist.pValue);
      // A larger adjusted p-value widens the interval (GrowthBook's z-based adjusted CI).
      if (c.pValueAdjusted! > c.frequentist.pValue * 1.01) {
        expect(c.ciAdjusted![1] - c.ciAdjusted![0]).toBeGreaterThan(
          c.frequentist.ci[1] - c.frequentist.ci[0],
        );
      }
    }
    expect(a.metrics[2]!.comparisons[0]!.pValueAdjusted).toBeNull();
    // p = 0.018 for green on orders does not survive correction over four comparisons.
    const names = ['blue', 'green', 'red'];
    expect(decide({ analysis: a, primaryMetric: 'orders', variantNames: names }).verdict).toBe(
      'keep-running',
    );
    const raw = analyzeExperiment({ units, weights: [1, 1, 1], metrics });
    expect(decide({ analysis: raw, primaryMetric: 'orders', variantNames: names }).verdict).toBe('ship');
  });

  it('reports both absolute and relative effects and the CUPED variance reduction', () => {
    const withPre = (n: number, k: number, pre: number, both: number): VariantSums => ({
      ...conv(n, k),
      covariateSum: pre,
      covariateSumSquares: pre,
      mainCovariateSumProduct: both,
    });
    const m = metric('orders', [withPre(2505, 274, 250, 180), withPre(2495, 333, 248, 200)]);
    const a = analyzeExperiment({
      units: [2505, 2495],
      weights: [1, 1],
      metrics: [m],
      settings: { cuped: true },
    });
    const c = a.metrics[0]!.comparisons[0]!;
    expect(c.frequentist.difference).toBe('relative');
    expect(c.frequentistOther.difference).toBe('absolute');
    expect(c.cupedTheta).toBeGreaterThan(0);
    expect(c.cupedVarianceReduction).toBeGreaterThan(0.2);
  });
});
