// The health of an experiment at a glance, from its latest results summary (what the
// experiments list shows as a badge). Pure. Worst first: a sample ratio mismatch invalidates
// the results, a harmed guardrail is a reason to stop, units seen in several variants bias the
// comparison, low power means "keep running".
import type { ResultsSummary } from '../../common/results-summary';

export type HealthState =
  'no-data' | 'srm' | 'guardrail-harmed' | 'multiple-exposures' | 'underpowered' | 'healthy';

export interface ExperimentHealth {
  state: HealthState;
  /** A short label for the badge. */
  label: string;
  /** Every problem found, worst first (empty when healthy or without data). */
  problems: string[];
  /** When the summary's snapshot was taken (null without data). */
  snapshotAt: string | null;
}

const LABELS: Record<HealthState, string> = {
  'no-data': 'no data',
  srm: 'SRM failing',
  'guardrail-harmed': 'guardrail harmed',
  'multiple-exposures': 'multiple exposures',
  underpowered: 'underpowered',
  healthy: 'healthy',
};

export function experimentHealth(summary: ResultsSummary | null): ExperimentHealth {
  if (!summary) return { state: 'no-data', label: LABELS['no-data'], problems: [], snapshotAt: null };
  const found: [HealthState, string][] = [];
  const { srm, multipleExposures, power } = summary.health;
  if (srm.warning) {
    found.push([
      'srm',
      `sample ratio mismatch (p = ${srm.pValue.toPrecision(3)}): the split is not as designed`,
    ]);
  }
  const harmed = summary.metrics.flatMap((m) =>
    m.role === 'guardrail'
      ? m.comparisons.filter((c) => c.guardrailFailed).map((c) => `${m.id} (${c.variationId})`)
      : [],
  );
  if (harmed.length > 0) found.push(['guardrail-harmed', `guardrail harmed: ${harmed.join(', ')}`]);
  if (multipleExposures.warning) {
    found.push([
      'multiple-exposures',
      `${(multipleExposures.share * 100).toFixed(1)}% of units saw several variants`,
    ]);
  }
  if (power.underpowered) {
    found.push([
      'underpowered',
      power.observed === null ? 'underpowered' : `underpowered (power ${(power.observed * 100).toFixed(0)}%)`,
    ]);
  }
  const totalUnits = summary.variants.reduce((n, v) => n + v.units, 0);
  if (totalUnits === 0 && found.length === 0) {
    return { state: 'no-data', label: LABELS['no-data'], problems: [], snapshotAt: summary.snapshotAt };
  }
  const state = found[0]?.[0] ?? 'healthy';
  return { state, label: LABELS[state], problems: found.map((f) => f[1]), snapshotAt: summary.snapshotAt };
}
