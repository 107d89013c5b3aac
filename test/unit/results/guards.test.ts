// Behaviour where inputs are degenerate, and the places where we deliberately differ from gbstats 0.8.0.
import {
  bayesianTest,
  DEFAULT_MIN_UNITS,
  frequentistTest,
  pairStatistics,
  plannedMde,
  safeSqrt,
  sequentialPValue,
  srmTest,
  studentTQuantile,
  variantStatistic,
  type UnitStatistic,
} from '../../../services/results/stats';
import { reference } from './reference';

const stat = (n: number, mean: number, variance: number): UnitStatistic => ({
  n,
  mean,
  unadjustedMean: mean,
  variance,
});

describe('guards', () => {
  it('computes no test statistic below the minimum units per variant', () => {
    const r = frequentistTest(stat(DEFAULT_MIN_UNITS - 1, 1, 1), stat(500, 1.2, 1));
    expect(r.error).toBe('TOO_FEW_UNITS');
    expect(r.pValue).toBe(1);
    expect(bayesianTest(stat(10, 1, 1), stat(10, 2, 1)).error).toBe('TOO_FEW_UNITS');
    expect(frequentistTest(stat(DEFAULT_MIN_UNITS, 1, 1), stat(DEFAULT_MIN_UNITS, 1.2, 1)).error).toBeNull();
  });

  it('refuses a relative effect over a zero or negative baseline, but computes the absolute one', () => {
    expect(frequentistTest(stat(100, 0, 1), stat(100, 1, 1)).error).toBe('ZERO_NEGATIVE_BASELINE_VARIATION');
    expect(frequentistTest(stat(100, -2, 1), stat(100, -1, 1)).error).toBe(
      'ZERO_NEGATIVE_BASELINE_VARIATION',
    );
    const abs = frequentistTest(stat(100, 0, 1), stat(100, 0.5, 1), { difference: 'absolute' });
    expect(abs.error).toBeNull();
    expect(abs.estimate).toBeCloseTo(0.5, 12);
  });

  it('treats zero variance as no information', () => {
    expect(frequentistTest(stat(100, 1, 0), stat(100, 1, 1)).error).toBe('ZERO_NEGATIVE_VARIANCE');
    expect(bayesianTest(stat(100, 1, 1), stat(100, 1, 0)).chanceToWin).toBe(0.5);
  });

  it('clamps a variance that rounding made negative instead of taking its square root', () => {
    // Σx² - (Σx)²/n = -1e-7 < 0: what float rounding of large equal values produces.
    const v = variantStatistic({ type: 'count' }, { n: 2, sum: 2, sumSquares: 1.9999999 });
    expect(v.variance).toBe(0);
    expect(safeSqrt(-1e-17)).toBe(0);
  });

  it('never returns NaN for an empty experiment', () => {
    expect(srmTest([0, 0], [0.5, 0.5]).pValue).toBe(1);
    const a = variantStatistic({ type: 'binomial' }, { n: 0, sum: 0, sumSquares: 0 });
    expect(a).toEqual({ n: 0, mean: 0, unadjustedMean: 0, variance: 0 });
    expect(frequentistTest(a, a).error).toBe('NO_UNITS_IN_VARIATION');
  });

  it('keeps a huge sequential e-value finite (gbstats overflows to p = 0 with a warning)', () => {
    expect(sequentialPValue(1e6, 1e6, 0.05, 5000)).toBe(0);
  });

  it('explains an impossible MDE instead of returning NaN', () => {
    const r = plannedMde({ baseline: { mean: 0.01, variance: 0.0099 }, unitsPerVariant: 10 });
    expect(r.ok).toBe(false);
  });

  it('uses the corrected one-sided "less" bound (gbstats 0.8.0 subtracts the half-width twice)', () => {
    const c = reference.tests.find((x) => x.settings.alternative === 'less' && x.expected.error === null)!;
    const pair = pairStatistics(c.metric, c.a, c.b, c.cuped);
    const r = frequentistTest(pair.a, pair.b, {
      difference: c.settings.difference,
      alpha: c.settings.alpha,
      alternative: 'less',
      minUnits: 2,
    });
    const half = studentTQuantile(1 - c.settings.alpha, r.dof) * r.standardError;
    expect(r.ci[0]).toBe(-Infinity);
    expect(r.ci[1]).toBeCloseTo(r.estimate + half, 12);
  });
});
