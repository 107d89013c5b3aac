/**
 * Sample-ratio mismatch: Pearson's chi-square test of the units seen per variant against the
 * configured traffic weights (gbstats check_srm). A tiny p-value means assignment or tracking
 * is broken and no metric result can be trusted.
 */
import { chiSquareSf } from './distributions';

/** GrowthBook's default: warn when the SRM p-value is below 0.001. */
export const DEFAULT_SRM_THRESHOLD = 0.001;

export interface SrmResult {
  /** Chi-square statistic Σ (observed - expected)² / expected. */
  statistic: number;
  /** Degrees of freedom: number of variants - 1 (as gbstats, also counting zero-weight variants). */
  dof: number;
  pValue: number;
  /** p < threshold. */
  warning: boolean;
}

export function srmTest(
  units: readonly number[],
  weights: readonly number[],
  threshold = DEFAULT_SRM_THRESHOLD,
): SrmResult {
  if (units.length !== weights.length) throw new Error('srm: one weight per variant is required');
  const dof = units.length - 1;
  const total = units.reduce((s, u) => s + u, 0);
  const totalWeight = weights.reduce((s, w) => s + w, 0);
  if (!total || dof < 1 || !(totalWeight > 0)) return { statistic: 0, dof, pValue: 1, warning: false };
  let statistic = 0;
  units.forEach((observed, i) => {
    const w = weights[i]!;
    if (w <= 0) return; // gbstats skips variants that should get no traffic
    const expected = (w / totalWeight) * total;
    statistic += (observed - expected) ** 2 / expected;
  });
  const pValue = chiSquareSf(statistic, dof);
  return { statistic, dof, pValue, warning: pValue < threshold };
}
