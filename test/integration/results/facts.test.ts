// The results service's one query per experiment on the emulator: settings, exposures and the
// sufficient statistics from the analysts' views, plus CUPED covariates from the events table
// over the look-back before each unit's first exposure.
import type { BigQuery, Dataset } from '@google-cloud/bigquery';
import { createBigQuery } from '../../../services/common/bigquery';
import { readExperimentFacts } from '../../../services/results/facts';
import { stack, uniqueName } from '../setup/stack';
import {
  CONVERTED,
  MULTIPLE_EXPOSURE_UNITS,
  UNITS_PER_VARIANT,
  createFactsDataset,
  seedExperiment,
  seedFacts,
} from './fixtures';

describe('reading one experiment’s facts', () => {
  const datasetId = uniqueName('results_facts');
  const key = 'checkout';
  const phaseStart = Date.UTC(2026, 4, 1, 12);
  let bq: BigQuery;
  let dataset: Dataset;

  beforeAll(async () => {
    bq = createBigQuery({
      projectId: stack.bigqueryProject,
      location: 'US',
      apiEndpoint: stack.bigqueryEndpoint,
    });
    dataset = await createFactsDataset(bq, datasetId);
    await seedExperiment(dataset, key, phaseStart);
    await seedFacts(dataset, key, phaseStart);
  }, 120_000);
  afterAll(async () => {
    if (!process.env.KEEP) await dataset?.delete({ force: true });
  });

  it('returns variants with weights, units, excluded units and every declared metric', async () => {
    const facts = await readExperimentFacts(bq, datasetId, key);
    expect(facts).not.toBeNull();
    expect(facts!.phase).toBe(0);
    expect(facts!.variants).toEqual([
      { key: 'control', weight: 50, units: UNITS_PER_VARIANT, excludedUnits: MULTIPLE_EXPOSURE_UNITS },
      { key: 'treatment', weight: 50, units: UNITS_PER_VARIANT, excludedUnits: 0 },
    ]);
    expect(facts!.metrics.map((m) => [m.id, m.role, m.aggregation, m.inverse])).toEqual([
      ['Order Completed', 'primary', 'conversion', false],
      ['revenue', 'secondary', 'sum', false],
      ['errors', 'guardrail', 'count', true],
    ]);
    const conversion = facts!.metrics[0]!;
    expect(conversion.sums.map((s) => [s.n, s.sum])).toEqual([
      [UNITS_PER_VARIANT, CONVERTED.control],
      [UNITS_PER_VARIANT, CONVERTED.treatment],
    ]);
    expect(conversion.convertedUnits).toEqual([CONVERTED.control, CONVERTED.treatment]);
    expect(facts!.cuped).toBe(false);
    expect(conversion.sums[0]!.covariateSum).toBeUndefined();
  });

  it('adds the pre-exposure covariates within the look-back, and none outside it', async () => {
    const within = await readExperimentFacts(bq, datasetId, key, 0, { cupedLookbackHours: 48 });
    const conversion = within!.metrics[0]!;
    // Every even unit ordered before exposure, in both variants.
    const pre = UNITS_PER_VARIANT / 2;
    expect(conversion.sums.map((s) => s.covariateSum)).toEqual([pre, pre]);
    // The unit's value times its pre-exposure value: every converting unit ordered before.
    expect(conversion.sums.map((s) => s.mainCovariateSumProduct)).toEqual([
      CONVERTED.control,
      CONVERTED.treatment,
    ]);
    const revenue = within!.metrics[1]!;
    expect(revenue.sums[0]!.covariateSum).toBe(pre * 10);
    // The orders 24 h before exposure fall outside a 12 h look-back.
    const outside = await readExperimentFacts(bq, datasetId, key, 0, { cupedLookbackHours: 12 });
    expect(outside!.metrics[0]!.sums.map((s) => s.covariateSum)).toEqual([0, 0]);
  });

  it('is null for a phase without exposures', async () => {
    expect(await readExperimentFacts(bq, datasetId, key, 3)).toBeNull();
  });
});
