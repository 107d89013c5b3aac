// The facts one experiment's results are computed from: its settings, exposed units and the
// sufficient statistics of its declared metrics for one phase, read from the analysts' views
// (which aggregate the enricher's facts; infra/bigquery). Turned into the statistics core's
// input here, so the demo, the results service and analysts' SQL all read one truth.

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
}

/** How each aggregation is analysed: per-unit conversion, count or sum; `mean` is a ratio over events. */
export const METRIC_DEFINITIONS: Record<Aggregation, MetricDefinition> = {
  conversion: { type: 'binomial' },
  count: { type: 'count' },
  sum: { type: 'mean' },
  mean: { type: 'ratio' },
};

type Row = Record<string, unknown>;

async function rows(bq: BigQuery, query: string, params: Record<string, unknown>): Promise<Row[]> {
  const [result] = await bq.query({ query, params });
  return result as Row[];
}

/** The experiment's facts for `phase` (default: its current phase); null before any unit was exposed. */
export async function readExperimentFacts(
  bq: BigQuery,
  dataset: string,
  experimentKey: string,
  phase?: number,
): Promise<ExperimentFacts | null> {
  const view = (name: string) => `\`${bq.projectId}.${dataset}.${name}\``;
  const [settings] = await rows(
    bq,
    `SELECT variants, current_phase FROM ${view('experiment_settings')} WHERE experiment_key = @key`,
    { key: experimentKey },
  );
  const at = phase ?? (settings?.current_phase as number | null | undefined) ?? 0;
  const exposed = await rows(
    bq,
    `SELECT variation_id, exposed_units, excluded_units FROM ${view('experiment_variant_exposures')}
     WHERE experiment_key = @key AND phase = @phase`,
    { key: experimentKey, phase: at },
  );
  if (exposed.length === 0) return null;
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
      units: Number(r?.exposed_units ?? 0),
      excludedUnits: Number(r?.excluded_units ?? 0),
    };
  });
  const summary = await rows(
    bq,
    `SELECT * FROM ${view('experiment_metric_summary')} WHERE experiment_key = @key AND phase = @phase`,
    { key: experimentKey, phase: at },
  );
  const metrics = new Map<string, MetricFacts>();
  for (const r of summary) {
    const id = String(r.metric);
    let m = metrics.get(id);
    if (!m) {
      m = {
        id,
        aggregation: r.aggregation as Aggregation,
        role: r.role as MetricRole,
        sums: variants.map((v) => ({ n: v.units, sum: 0, sumSquares: 0 })),
        unitsInProgress: variants.map(() => 0),
        convertedUnits: variants.map(() => 0),
      };
      metrics.set(id, m);
    }
    const i = keys.indexOf(String(r.variation_id));
    m.sums[i] = {
      n: Number(r.units),
      sum: Number(r.value_sum),
      sumSquares: Number(r.value_sum_squares),
      denominatorSum: Number(r.events_sum),
      denominatorSumSquares: Number(r.events_sum_squares),
      mainDenominatorSumProduct: Number(r.value_events_sum),
    };
    m.unitsInProgress[i] = Number(r.units_in_progress);
    m.convertedUnits[i] = Number(r.converted_units);
  }
  const order: MetricRole[] = ['primary', 'secondary', 'guardrail'];
  return {
    experimentKey,
    phase: at,
    variants,
    metrics: [...metrics.values()].sort(
      (a, b) => order.indexOf(a.role) - order.indexOf(b.role) || (a.id < b.id ? -1 : 1),
    ),
  };
}

function parseVariants(value: unknown): Array<{ key: string; weight: number }> {
  let list: unknown = value;
  if (typeof value === 'string') {
    try {
      list = JSON.parse(value);
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
    definition: METRIC_DEFINITIONS[m.aggregation],
    guardrail: m.role === 'guardrail',
    variants: m.sums,
  }));
  return {
    units: facts.variants.map((v) => v.units),
    weights: facts.variants.map((v) => v.weight),
    metrics,
    settings,
  };
}
