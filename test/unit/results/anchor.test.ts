// The issue's sanity anchor: blue 274/2505 vs green 333/2495 orders. gbstats' own numbers for these
// inputs are in the reference file (edge-anchor-*); the issue quotes them rounded.
import {
  analyzeExperiment,
  bayesianTest,
  decide,
  frequentistTest,
  pairStatistics,
  srmTest,
  type MetricInput,
} from '../../../services/results/stats';
import { mismatch, reference } from './reference';

const orders: MetricInput = {
  id: 'orders',
  definition: { type: 'binomial' },
  variants: [
    { n: 2505, sum: 274, sumSquares: 274 },
    { n: 2495, sum: 333, sumSquares: 333 },
  ],
};
const pair = pairStatistics(orders.definition, orders.variants[0]!, orders.variants[1]!);
const gb = (id: string) => reference.tests.find((c) => c.id === id)!.expected;

describe('issue anchor: blue vs green orders', () => {
  it('frequentist: p ≈ 0.018, 95% CI on the lift [+3.7%, +40.3%], equal to gbstats to 1e-6', () => {
    const r = frequentistTest(pair.a, pair.b, { minUnits: 2 });
    expect(r.pValue.toFixed(3)).toBe('0.018');
    expect((r.ci[0] * 100).toFixed(1)).toBe('3.7');
    expect((r.ci[1] * 100).toFixed(1)).toBe('40.3');
    const e = gb('edge-anchor-frequentist');
    expect([
      mismatch('p', r.pValue, e.pValue!),
      mismatch('lo', r.ci[0], e.ci[0]),
      mismatch('hi', r.ci[1], e.ci[1]),
      mismatch('lift', r.estimate, e.estimate!),
    ]).toEqual([null, null, null, null]);
  });

  it('Bayesian: chance to win 99.1%, equal to gbstats to 1e-6', () => {
    const r = bayesianTest(pair.a, pair.b);
    expect((r.chanceToWin * 100).toFixed(1)).toBe('99.1');
    expect(mismatch('ctw', r.chanceToWin, gb('edge-anchor-bayesian').chanceToWin!)).toBeNull();
  });

  it('SRM p 0.89 with equal weights', () => {
    const srm = srmTest([2505, 2495], [0.5, 0.5]);
    expect(srm.pValue.toFixed(2)).toBe('0.89');
    expect(srm.warning).toBe(false);
    expect(mismatch('srm', srm.pValue, reference.srm[0]!.pValue)).toBeNull();
  });

  it('reads as a decision to ship green', () => {
    const analysis = analyzeExperiment({ units: [2505, 2495], weights: [0.5, 0.5], metrics: [orders] });
    const d = decide({ analysis, primaryMetric: 'orders', variantNames: ['blue', 'green'] });
    expect(d.verdict).toBe('ship');
    expect(d.sentence).toBe('green raises orders by 22% (95% CI +4% to +40%); ship it.');
    // Power of this test against an effect as large as the one observed.
    expect(analysis.metrics[0]!.comparisons[0]!.observedPower).toBeGreaterThan(0.6);
    expect(analysis.metrics[0]!.comparisons[0]!.observedPower).toBeLessThan(0.7);
  });
});
