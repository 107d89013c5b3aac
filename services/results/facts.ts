// The facts one experiment's results are computed from: its settings, exposed units and the
// sufficient statistics of its declared metrics for one phase, read from the analysts' views
// (which aggregate the enricher's facts; infra/bigquery). Turned into the statistics core's
// input here, so the demo, the results service and analysts' SQL all read one truth.
//
// One parameterised query per experiment: BigQuery bills a 10 MB minimum per table a query
// references, and each job counts against quotas, so settings, exposures, metric sums and the
// CUPED covariates come back from a single job as rows of three kinds. Every view is filtered
// on the experiment (the tables are clustered on experiment_key) and the phase; the events
// table, read for CUPED only, is filtered on its partitioning column as well.

import type { BigQuery } from '@google-cloud/bigquery';
import type { ExperimentInput, MetricDefinition, MetricInput, VariantSums } from './stats';

export type Aggregation = 'conversion' | 'count' | 'sum' | 'mean';
export type MetricRole = 'primary' | 'secondary' | 'guardrail';

export interface VariantFacts {
  key: string;
  weight: number;
  units: number;
  /** Units left out because they saw several variants (counted in the first one they saw). */
  excludedUnits: number;
}

export interface MetricFacts {
  id: string;
  aggregation: Aggregation;
  role: MetricRole;
  /** Lower is better: a rise is the harmful direction. */
  inverse: boolean;
  /** Same order as ExperimentFacts.variants. */
  sums: VariantSums[];
  /** Units still inside their attribution window, per variant. */
  unitsInProgress: number[];
  /** Units with at least one event of the metric, per variant. */
  convertedUnits: number[];
}

export interface ExperimentFacts {
  experimentKey: string;
  phase: number;
  /** Baseline first, in the registry's order. */
  variants: VariantFacts[];
  metrics: MetricFacts[];
  /** Whether the sums carry CUPED covariates (the pre-exposure value of each metric). */
  cuped: boolean;
}

export interface FactsOptions {
  /**
   * CUPED look-back: a unit's pre-exposure value of a metric is what it did in this many hours
   * before its first exposure (0 turns the covariates off, and the events table is not read).
   */
  cupedLookbackHours?: number;
  /** Earliest first exposure of the phase, when known: lets the events scan prune partitions. */
  phaseStartedAt?: Date;
}

/** How each aggregation is analysed: per-unit conversion, count or sum; `mean` is a ratio over events. */
export const METRIC_DEFINITIONS: Record<Aggregation, MetricDefinition> = {
  conversion: { type: 'binomial' },
  count: { type: 'count' },
  sum: { type: 'mean' },
  mean: { type: 'ratio' },
};

type Row = Record<string, unknown>;

/**
 * The one query. `kind` tells the rows apart: 'settings' (one row, may be absent), 'exposure'
 * (per variant) and 'metric' (per variant and metric). The covariate of a unit is its value of
 * the metric computed the same way as after exposure (conversion 1/0, count, sum) over the
 * look-back window; ratio (`mean`) metrics are not CUPED-adjusted, so they get none.
 */
export function factsQuery(project: string, dataset: string): string {
  const t = (name: string) => `\`${project}.${dataset}.${name}\``;
  return `
WITH settings AS (
  SELECT variants, current_phase
  FROM ${t('experiment_settings')}
  WHERE experiment_key = @key
),
target AS (
  SELECT COALESCE(@phase, (SELECT MAX(current_phase) FROM settings), 0) AS phase
),
units AS (
  SELECT unit_id, variation_id, first_exposed_at, multiple_variants
  FROM ${t('experiment_units')}
  WHERE experiment_key = @key AND phase = (SELECT phase FROM target)
),
declared AS (
  SELECT metric, event, aggregation
  FROM ${t('experiment_metrics')}
  WHERE experiment_key = @key AND @lookback_ms > 0 AND aggregation <> 'mean'
),
pre AS (
  SELECT
    u.unit_id,
    d.metric,
    CASE ANY_VALUE(d.aggregation)
      WHEN 'conversion' THEN IF(COUNT(e.message_id) > 0, 1, 0)
      WHEN 'count' THEN COUNT(e.message_id)
      ELSE COALESCE(SUM(e.value), 0)
    END AS pre_value
  FROM units AS u
  CROSS JOIN declared AS d
  LEFT JOIN ${t('events')} AS e
    ON e.unit_id = u.unit_id
    AND e.event = d.event
    AND e.\`timestamp\` >= @events_from
    AND e.\`timestamp\` < u.first_exposed_at
    AND e.\`timestamp\` >= TIMESTAMP_SUB(u.first_exposed_at, INTERVAL @lookback_ms MILLISECOND)
  WHERE NOT u.multiple_variants
  GROUP BY u.unit_id, d.metric
),
covariates AS (
  SELECT
    m.variation_id,
    m.metric,
    SUM(p.pre_value) AS pre_sum,
    SUM(p.pre_value * p.pre_value) AS pre_sum_squares,
    SUM(m.value * p.pre_value) AS value_pre_sum
  FROM ${t('experiment_unit_metrics')} AS m
  JOIN pre AS p ON p.unit_id = m.unit_id AND p.metric = m.metric
  WHERE m.experiment_key = @key AND m.phase = (SELECT phase FROM target)
  GROUP BY m.variation_id, m.metric
)
SELECT
  'settings' AS kind, (SELECT phase FROM target) AS phase, TO_JSON_STRING(s.variants) AS variants,
  CAST(NULL AS STRING) AS variation_id, CAST(NULL AS STRING) AS metric,
  CAST(NULL AS STRING) AS aggregation, CAST(NULL AS STRING) AS role, CAST(NULL AS BOOL) AS inverse,
  CAST(NULL AS INT64) AS units, CAST(NULL AS INT64) AS excluded_units,
  CAST(NULL AS INT64) AS units_in_progress, CAST(NULL AS INT64) AS converted_units,
  CAST(NULL AS FLOAT64) AS value_sum, CAST(NULL AS FLOAT64) AS value_sum_squares,
  CAST(NULL AS FLOAT64) AS events_sum, CAST(NULL AS FLOAT64) AS events_sum_squares,
  CAST(NULL AS FLOAT64) AS value_events_sum, CAST(NULL AS FLOAT64) AS pre_sum,
  CAST(NULL AS FLOAT64) AS pre_sum_squares, CAST(NULL AS FLOAT64) AS value_pre_sum
FROM settings AS s
UNION ALL
SELECT
  'exposure', (SELECT phase FROM target), NULL, variation_id, NULL, NULL, NULL, NULL,
  COUNTIF(NOT multiple_variants), COUNTIF(multiple_variants), NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM units
GROUP BY variation_id
UNION ALL
SELECT
  'metric', s.phase, NULL, s.variation_id, s.metric, s.aggregation, s.role, s.inverse,
  s.units, NULL, s.units_in_progress, s.converted_units,
  CAST(s.value_sum AS FLOAT64), CAST(s.value_sum_squares AS FLOAT64),
  CAST(s.events_sum AS FLOAT64), CAST(s.events_sum_squares AS FLOAT64),
  CAST(s.value_events_sum AS FLOAT64),
  CAST(c.pre_sum AS FLOAT64), CAST(c.pre_sum_squares AS FLOAT64), CAST(c.value_pre_sum AS FLOAT64)
FROM ${t('experiment_metric_summary')} AS s
LEFT JOIN covariates AS c ON c.variation_id = s.variation_id AND c.metric = s.metric
WHERE s.experiment_key = @key AND s.phase = (SELECT phase FROM target)
`;
}

/** BigQuery wants a type for parameters that may be null. */
const PARAM_TYPES = { key: 'STRING', phase: 'INT64', lookback_ms: 'INT64' };

/** Look-back of one year at most: the scan of the events table grows with it. */
export const MAX_CUPED_LOOKBACK_HOURS = 24 * 366;

/** The experiment's facts for `phase` (default: its current phase); null before any unit was exposed. */
export async function readExperimentFacts(
  bq: BigQuery,
  dataset: string,
  experimentKey: string,
  phase?: number,
  options: FactsOptions = {},
): Promise<ExperimentFacts | null> {
  const lookbackHours = options.cupedLookbackHours ?? 0;
  if (!(lookbackHours >= 0 && lookbackHours <= MAX_CUPED_LOOKBACK_HOURS)) {
    throw new RangeError(`cupedLookbackHours must be within 0..${MAX_CUPED_LOOKBACK_HOURS}`);
  }
  const lookbackMs = Math.round(lookbackHours * 3_600_000);
  // Events older than the look-back before the phase started cannot be covariates; the bound
  // lets BigQuery prune the events table's partitions. Without a known start, no pruning.
  const eventsFrom = new Date(Math.max(0, (options.phaseStartedAt?.getTime() ?? 0) - lookbackMs));
  const [result] = await bq.query({
    query: factsQuery(bq.projectId, dataset),
    params: {
      key: experimentKey,
      phase: phase ?? null,
      lookback_ms: lookbackMs,
      // A BigQueryTimestamp, not an ISO string: the emulator compares a typed string wrongly.
      events_from: bq.timestamp(eventsFrom),
    },
    types: PARAM_TYPES,
  });
  return factsFromRows(experimentKey, result as Row[], lookbackMs > 0);
}

/** Assembles the facts from the query's rows (pure; unit-tested). */
export function factsFromRows(experimentKey: string, rows: Row[], cuped: boolean): ExperimentFacts | null {
  const settings = rows.find((r) => r.kind === 'settings');
  const exposed = rows.filter((r) => r.kind === 'exposure');
  const summary = rows.filter((r) => r.kind === 'metric');
  if (exposed.length === 0) return null;
  const at = Number(exposed[0]!.phase);
  const declared = parseVariants(settings?.variants);
  // Variants the registry declares, then any others seen (sorted), so nothing disappears.
  const keys = [
    ...declared.map((v) => v.key),
    ...exposed
      .map((r) => String(r.variation_id))
      .filter((k) => !declared.some((v) => v.key === k))
      .sort(),
  ];
  const variants: VariantFacts[] = keys.map((key) => {
    const r = exposed.find((e) => e.variation_id === key);
    return {
      key,
      weight: declared.find((v) => v.key === key)?.weight ?? 0,
      units: Number(r?.units ?? 0),
      excludedUnits: Number(r?.excluded_units ?? 0),
    };
  });
  const num = (v: unknown) => (v === null || v === undefined ? 0 : Number(v));
  const metrics = new Map<string, MetricFacts>();
  for (const r of summary) {
    const id = String(r.metric);
    let m = metrics.get(id);
    if (!m) {
      const aggregation = r.aggregation as Aggregation;
      const withCovariate = cuped && aggregation !== 'mean';
      m = {
        id,
        aggregation,
        role: r.role as MetricRole,
        inverse: r.inverse === true,
        sums: variants.map((v) => ({
          n: v.units,
          sum: 0,
          sumSquares: 0,
          denominatorSum: 0,
          denominatorSumSquares: 0,
          mainDenominatorSumProduct: 0,
          ...(withCovariate ? { covariateSum: 0, covariateSumSquares: 0, mainCovariateSumProduct: 0 } : {}),
        })),
        unitsInProgress: variants.map(() => 0),
        convertedUnits: variants.map(() => 0),
      };
      metrics.set(id, m);
    }
    const i = keys.indexOf(String(r.variation_id));
    if (i < 0) continue;
    const withCovariate = cuped && m.aggregation !== 'mean';
    m.sums[i] = {
      n: num(r.units),
      sum: num(r.value_sum),
      sumSquares: num(r.value_sum_squares),
      denominatorSum: num(r.events_sum),
      denominatorSumSquares: num(r.events_sum_squares),
      mainDenominatorSumProduct: num(r.value_events_sum),
      ...(withCovariate
        ? {
            covariateSum: num(r.pre_sum),
            covariateSumSquares: num(r.pre_sum_squares),
            mainCovariateSumProduct: num(r.value_pre_sum),
          }
        : {}),
    };
    m.unitsInProgress[i] = num(r.units_in_progress);
    m.convertedUnits[i] = num(r.converted_units);
  }
  const order: MetricRole[] = ['primary', 'secondary', 'guardrail'];
  return {
    experimentKey,
    phase: at,
    variants,
    cuped,
    metrics: [...metrics.values()].sort(
      (a, b) => order.indexOf(a.role) - order.indexOf(b.role) || (a.id < b.id ? -1 : 1),
    ),
  };
}

function parseVariants(value: unknown): Array<{ key: string; weight: number }> {
  let list: unknown = value;
  // The JSON column arrives as JSON text, sometimes twice encoded (TO_JSON_STRING of JSON text).
  for (let i = 0; i < 2 && typeof list === 'string'; i++) {
    try {
      list = JSON.parse(list);
    } catch {
      return [];
    }
  }
  if (!Array.isArray(list)) return [];
  return list.flatMap((v: { key?: unknown; weight?: unknown }) =>
    typeof v?.key === 'string' ? [{ key: v.key, weight: typeof v.weight === 'number' ? v.weight : 0 }] : [],
  );
}

/** The statistics core's input: units per variant, weights, and one metric per declared metric. */
export function experimentInput(
  facts: ExperimentFacts,
  settings: ExperimentInput['settings'] = {},
): ExperimentInput {
  const metrics: MetricInput[] = facts.metrics.map((m) => ({
    id: m.id,
    definition: { ...METRIC_DEFINITIONS[m.aggregation], inverse: m.inverse },
    guardrail: m.role === 'guardrail',
    variants: m.sums,
  }));
  return {
    units: facts.variants.map((v) => v.units),
    weights: facts.variants.map((v) => v.weight),
    metrics,
    settings: { ...settings, cuped: (settings.cuped ?? facts.cuped) && facts.cuped },
  };
}
