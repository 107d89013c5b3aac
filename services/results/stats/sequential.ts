/**
 * Always-valid inference under continuous peeking: the asymptotic mixture confidence sequence
 * of Waudby-Smith et al. (2023, arXiv:2103.06476v7), as gbstats' SequentialTwoSidedTTest uses
 * it. The tuning parameter is the total sample size (both arms) at which the sequence is
 * tightest; gbstats' and GrowthBook's default is 5000.
 */

export const DEFAULT_SEQUENTIAL_TUNING = 5000;

/** Mixing variance ρ of the normal mixture, chosen to be tightest at n = tuning (eq. 161). */
export function sequentialRho(alpha: number, tuning: number): number {
  const l = -2 * Math.log(alpha);
  return Math.sqrt((l + Math.log(l + 1)) / tuning);
}

/**
 * Half-width of the confidence sequence for an estimate whose variance is s2 / n (eq. 9):
 * sqrt(s2) · sqrt( 2(nρ² + 1) / (nρ)² · ln( sqrt(nρ² + 1) / α ) ).
 */
export function sequentialHalfWidth(s2: number, n: number, alpha: number, tuning: number): number {
  const rho = sequentialRho(alpha, tuning);
  const nr2 = n * rho * rho;
  const radicand = ((2 * (nr2 + 1)) / (n * rho) ** 2) * Math.log(Math.sqrt(nr2 + 1) / alpha);
  return Math.sqrt(Math.max(0, s2)) * Math.sqrt(Math.max(0, radicand));
}

/**
 * Always-valid p-value: 1 / e-value, capped at 1 (eq. 155). `z2` is the squared standardized
 * distance (estimate - testValue)² / variance; the e-value is
 * exp(ρ² n z2 / (2(nρ² + 1))) / sqrt(nρ² + 1).
 */
export function sequentialPValue(z2: number, n: number, alpha: number, tuning: number): number {
  const rho = sequentialRho(alpha, tuning);
  const tr2p1 = n * rho * rho + 1;
  // Work in logs so a huge e-value does not overflow to Infinity before inverting.
  const logE = (rho * rho * n * z2) / (2 * tr2p1) - 0.5 * Math.log(tr2p1);
  return Math.min(1, Math.exp(-logE));
}
