/**
 * Corrections for testing several metrics and variants at once: adjusted p-values by
 * Holm-Bonferroni (controls the family-wise error rate) and Benjamini-Hochberg (controls the
 * false discovery rate), the same step-down / step-up procedures as GrowthBook and
 * statsmodels' multipletests('holm' | 'fdr_bh'). GrowthBook leaves guardrail metrics out of
 * the family; callers pass only the p-values that should be corrected together.
 */
import { normalQuantile } from './distributions';

export type Correction = 'holm-bonferroni' | 'benjamini-hochberg';

/** Holm step-down: sorted ascending, p(i)·(m - i) made non-decreasing, capped at 1. */
export function holmBonferroni(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => ({ p, i })).sort((x, y) => x.p - y.p);
  const adjusted = new Array<number>(m);
  let running = 0;
  order.forEach(({ p, i }, rank) => {
    running = Math.max(running, Math.min(1, p * (m - rank)));
    adjusted[i] = running;
  });
  return adjusted;
}

/** Benjamini-Hochberg step-up: sorted descending, p(k)·m / k made non-increasing, capped at 1. */
export function benjaminiHochberg(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => ({ p, i })).sort((x, y) => y.p - x.p);
  const adjusted = new Array<number>(m);
  let running = 1;
  order.forEach(({ p, i }, idx) => {
    const k = m - idx; // rank in ascending order
    running = Math.min(running, Math.min(1, (p * m) / k));
    adjusted[i] = running;
  });
  return adjusted;
}

export function adjustPValues(pValues: readonly number[], correction: Correction): number[] {
  return correction === 'holm-bonferroni' ? holmBonferroni(pValues) : benjaminiHochberg(pValues);
}

/**
 * An interval consistent with an adjusted p-value (GrowthBook's adjustedCI): the standard error
 * implied by |estimate| / z(1 - p_adj/2), widened by z(1 - alpha/2). Returns null when the
 * estimate is 0 or p_adj is 1, where no finite interval follows and the unadjusted one stands.
 */
export function adjustedInterval(
  estimate: number,
  adjustedPValue: number,
  alpha = 0.05,
): [number, number] | null {
  if (!estimate || !(adjustedPValue < 1)) return null;
  const impliedSe = Math.abs(estimate / normalQuantile(1 - adjustedPValue / 2));
  const half = normalQuantile(1 - alpha / 2) * impliedSe;
  return [estimate - half, estimate + half];
}
