/**
 * Delay before the next attempt after `attempts` failed ones: base x 2^(attempts-1), capped at
 * `max`, plus up to 10% jitter so many failed deliveries to one receiver do not retry in step.
 */
export function backoffMs(attempts: number, base: number, max: number, random = Math.random): number {
  const exp = Math.min(max, base * 2 ** Math.max(0, attempts - 1));
  return Math.round(exp + exp * 0.1 * random());
}
