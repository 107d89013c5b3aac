// From facts to experiment_results records and the registry summary: deterministic ids,
// one record per metric and variant, valid Avro, nulls instead of non-finite numbers.
import { avroType } from '../../../services/common/schemas';
import { resultsSummarySchema } from '../../../services/common/results-summary';
import { factsFromRows, experimentInput, type ExperimentFacts } from '../../../services/results/facts';
import { buildSnapshot, snapshotId } from '../../../services/results/snapshot';

const settings = { analysis: {}, multipleExposureThreshold: 0.01, underpoweredBelow: 0.8 };
const T = Date.UTC(2026, 5, 1);

function facts(o: { units?: number[]; converted?: number[]; excluded?: number[] } = {}): ExperimentFacts {
  const units = o.units ?? [2505, 2495];
  const converted = o.converted ?? [274, 333];
  return {
    experimentKey: 'checkout',
    phase: 1,
    cuped: false,
    variants: ['blue', 'green'].map((key, i) => ({
      key,
      weight: 50,
      units: units[i]!,
      excludedUnits: o.excluded?.[i] ?? 0,
    })),
    metrics: [
      {
        id: 'orders',
        aggregation: 'conversion',
        role: 'primary',
        inverse: false,
        sums: units.map((n, i) => ({ n, sum: converted[i]!, sumSquares: converted[i]! })),
        unitsInProgress: [5, 6],
        convertedUnits: converted,
      },
      {
        id: 'revenue',
        aggregation: 'sum',
        role: 'guardrail',
        inverse: false,
        sums: units.map((n, i) => ({ n, sum: converted[i]! * 20, sumSquares: converted[i]! * 400 })),
        unitsInProgress: [0, 0],
        convertedUnits: converted,
      },
    ],
  };
}

describe('results snapshot', () => {
  it('gives the same snapshot id for the same experiment, phase and time, and another otherwise', () => {
    expect(snapshotId('checkout', 1, T)).toBe(snapshotId('checkout', 1, T));
    expect(snapshotId('checkout', 1, T)).toMatch(/^[0-9a-f]{64}$/);
    expect(
      new Set([snapshotId('checkout', 1, T), snapshotId('checkout', 2, T), snapshotId('checkout', 1, T + 1)])
        .size,
    ).toBe(3);
    // Byte-identical records for a re-run: the sink's row ids (snapshot, metric, variant) repeat.
    expect(buildSnapshot(facts(), settings, T).records).toEqual(buildSnapshot(facts(), settings, T).records);
  });

  it('has one valid Avro record per metric and variant, effects null on the baseline', () => {
    const { records } = buildSnapshot(facts(), settings, T);
    expect(records.map((r) => [r.metric, r.variationId, r.isBaseline])).toEqual([
      ['orders', 'blue', true],
      ['orders', 'green', false],
      ['revenue', 'blue', true],
      ['revenue', 'green', false],
    ]);
    const type = avroType('experiment-result');
    for (const r of records) expect(type.isValid(r)).toBe(true);
    const baseline = records[0]!;
    expect([baseline.lift, baseline.pValue, baseline.chanceToWin, baseline.significant]).toEqual([
      null,
      null,
      null,
      null,
    ]);
    expect(baseline.unitsInProgress).toBe(5);
  });

  it('carries the issue anchor: lift +22%, p 0.018, chance to win 99.1%, SRM p 0.89, a ship sentence', () => {
    const { records, summary } = buildSnapshot(facts(), settings, T);
    const green = records[1]!;
    expect(green.lift).toBeCloseTo(0.2202, 3);
    expect(green.pValue).toBeCloseTo(0.018, 3);
    expect(green.chanceToWin).toBeCloseTo(0.991, 3);
    expect(green.srmPValue).toBeCloseTo(0.89, 2);
    expect(green.significant).toBe(true);
    expect(green.decisionVerdict).toBe('ship');
    expect(green.decisionSentence).toBe('green raises orders by 22% (95% CI +4% to +40%); ship it.');
    expect(resultsSummarySchema.safeParse(summary).success).toBe(true);
    expect(summary.decision).toMatchObject({ verdict: 'ship', variationId: 'green' });
    expect(summary.health.power.observed).toBeCloseTo(green.observedPower!, 12);
  });

  it("reads a lower-is-better metric's rise as harm: the guardrail fails and blocks shipping", () => {
    const up = facts();
    expect(buildSnapshot(up, settings, T).summary.metrics[1]).toMatchObject({
      id: 'revenue',
      inverse: false,
      comparisons: [{ variationId: 'green', guardrailFailed: false }],
    });
    const inverse = facts();
    inverse.metrics[1]!.inverse = true;
    expect(experimentInput(inverse).metrics[1]!.definition.inverse).toBe(true);
    const { summary } = buildSnapshot(inverse, settings, T);
    expect(summary.metrics[1]).toMatchObject({
      id: 'revenue',
      inverse: true,
      comparisons: [{ variationId: 'green', guardrailFailed: true }],
    });
    expect(summary.decision.verdict).not.toBe('ship');
    expect(resultsSummarySchema.parse(summary).metrics[1]!.inverse).toBe(true);
  });

  it('warns about multiple exposures above the threshold', () => {
    const { summary, records } = buildSnapshot(facts({ excluded: [60, 40] }), settings, T);
    expect(summary.health.multipleExposures).toEqual({ units: 100, share: 100 / 5100, warning: true });
    expect(records.every((r) => r.multipleExposureWarning)).toBe(true);
  });

  it('writes null, never NaN or Infinity, when there is no inference (too few units)', () => {
    const { records, summary } = buildSnapshot(facts({ units: [10, 12], converted: [1, 2] }), settings, T);
    const green = records[1]!;
    expect(green.statsError).toBe('TOO_FEW_UNITS');
    expect([green.lift, green.pValue, green.liftCiLower, green.observedPower]).toEqual([
      null,
      null,
      null,
      null,
    ]);
    expect(avroType('experiment-result').isValid(green)).toBe(true);
    expect(summary.decision.verdict).toBe('keep-running');
    expect(JSON.stringify(summary)).not.toMatch(/NaN|Infinity/);
  });

  it('keeps an open side of a one-sided interval as null', () => {
    const { records } = buildSnapshot(facts(), { ...settings, analysis: { alternative: 'greater' } }, T);
    expect(records[1]!.liftCiUpper).toBeNull();
    expect(records[1]!.liftCiLower).not.toBeNull();
  });
});

describe('facts from the query rows', () => {
  const rows = [
    {
      kind: 'settings',
      phase: 2,
      variants: JSON.stringify(
        JSON.stringify([
          { key: 'a', weight: 1 },
          { key: 'b', weight: 3 },
        ]),
      ),
    },
    { kind: 'exposure', phase: 2, variation_id: 'b', units: 30, excluded_units: 1 },
    { kind: 'exposure', phase: 2, variation_id: 'a', units: 10, excluded_units: 0 },
    { kind: 'exposure', phase: 2, variation_id: 'rogue', units: 1, excluded_units: 0 },
    {
      kind: 'metric',
      phase: 2,
      variation_id: 'b',
      metric: 'm',
      aggregation: 'count',
      role: 'primary',
      inverse: false,
      units: 30,
      units_in_progress: 3,
      converted_units: 7,
      value_sum: 9,
      value_sum_squares: 15,
      events_sum: 9,
      events_sum_squares: 15,
      value_events_sum: 15,
      pre_sum: 4,
      pre_sum_squares: 6,
      value_pre_sum: 5,
    },
  ];

  it('orders variants as declared, keeps undeclared ones, and zero-fills missing sums', () => {
    const f = factsFromRows('x', rows, true)!;
    expect(f.phase).toBe(2);
    expect(f.variants.map((v) => [v.key, v.weight, v.units])).toEqual([
      ['a', 1, 10],
      ['b', 3, 30],
      ['rogue', 0, 1],
    ]);
    const m = f.metrics[0]!;
    expect(m.sums[0]).toMatchObject({ n: 10, sum: 0, covariateSum: 0 });
    expect(m.sums[1]).toMatchObject({ n: 30, sum: 9, covariateSum: 4, mainCovariateSumProduct: 5 });
    expect(m.unitsInProgress).toEqual([0, 3, 0]);
    expect(experimentInput(f).settings).toMatchObject({ cuped: true });
  });

  it('leaves covariates out without CUPED, and is null without exposures', () => {
    const f = factsFromRows('x', rows, false)!;
    expect(f.metrics[0]!.sums[1]!.covariateSum).toBeUndefined();
    expect(experimentInput(f).settings).toMatchObject({ cuped: false });
    expect(factsFromRows('x', rows.slice(0, 1), true)).toBeNull();
  });
});
