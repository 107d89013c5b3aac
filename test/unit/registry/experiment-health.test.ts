import type { ResultsSummary } from '../../../services/common/results-summary';
import { experimentHealth } from '../../../services/registry/results/health';

function summary(over: {
  srm?: boolean;
  underpowered?: boolean;
  multiple?: boolean;
  guardrailFailed?: boolean;
  units?: number;
}): ResultsSummary {
  const units = over.units ?? 500;
  return {
    experimentKey: 'btn',
    phase: 0,
    snapshotId: 'a'.repeat(64),
    snapshotAt: '2026-01-02T00:00:00.000Z',
    settings: { engine: 'frequentist', alpha: 0.05, sequential: false, cuped: false, correction: null },
    decision: { verdict: 'keep-running', variationId: null, sentence: 'Keep running.' },
    variants: [
      { variationId: 'a', weight: 0.5, units, excludedUnits: 0 },
      { variationId: 'b', weight: 0.5, units, excludedUnits: 0 },
    ],
    health: {
      srm: { pValue: over.srm ? 0.0001 : 0.5, warning: over.srm ?? false },
      multipleExposures: { units: 0, share: over.multiple ? 0.05 : 0, warning: over.multiple ?? false },
      power: { observed: 0.42, detectableEffect: 0.1, underpowered: over.underpowered ?? false },
    },
    metrics: [
      {
        id: 'revenue',
        role: 'guardrail',
        aggregation: 'sum',
        inverse: false,
        variants: [],
        comparisons: [
          {
            variationId: 'b',
            lift: -0.2,
            liftCiLower: -0.3,
            liftCiUpper: -0.1,
            absoluteEffect: -1,
            pValue: 0.001,
            pValueAdjusted: null,
            chanceToWin: 0.01,
            significant: true,
            guardrailFailed: over.guardrailFailed ?? false,
            observedPower: null,
            detectableEffect: null,
            error: null,
          },
        ],
      },
    ],
  };
}

describe('experiment health badge', () => {
  it('says no data without a summary or without units', () => {
    expect(experimentHealth(null)).toMatchObject({ state: 'no-data', label: 'no data', snapshotAt: null });
    expect(experimentHealth(summary({ units: 0 })).state).toBe('no-data');
  });

  it('is healthy when no check fails', () => {
    expect(experimentHealth(summary({}))).toEqual({
      state: 'healthy',
      label: 'healthy',
      problems: [],
      snapshotAt: '2026-01-02T00:00:00.000Z',
    });
  });

  it('names the worst problem first and lists every one', () => {
    const h = experimentHealth(
      summary({ srm: true, underpowered: true, guardrailFailed: true, multiple: true }),
    );
    expect(h.state).toBe('srm');
    expect(h.label).toBe('SRM failing');
    expect(h.problems).toEqual([
      'sample ratio mismatch (p = 0.000100): the split is not as designed',
      'guardrail harmed: revenue (b)',
      '5.0% of units saw several variants',
      'underpowered (power 42%)',
    ]);
    expect(experimentHealth(summary({ guardrailFailed: true, underpowered: true })).state).toBe(
      'guardrail-harmed',
    );
    expect(experimentHealth(summary({ underpowered: true })).label).toBe('underpowered');
  });
});
