// The analysts' views on the emulator: they aggregate the enricher's facts (clean exposures
// with their phase, attributed experiment_events) and the registry's declared metrics, and
// re-derive nothing. Rows are written straight into the tables (streaming inserts), so this
// suite tests the SQL alone, whatever path the sink loads by.
import type { BigQuery, Dataset } from '@google-cloud/bigquery';
import { createBigQuery } from '../../../services/common/bigquery';
import { runQuery } from '../../../services/sink/bigquery-jobs';
import { ensureDataset, ensureTables, tableDefs } from '../../../services/sink/tables';
import { installViews } from '../../../services/sink/views';
import pino from 'pino';
import { stack, uniqueName } from '../setup/stack';

const H = 3600_000;
const T0 = Date.UTC(2026, 4, 1, 12, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();
const lineage = (i: number) => ({
  row_id: `r${i}`,
  kafka_topic: 't',
  kafka_partition: 0,
  kafka_offset: i,
  loaded_at: iso(T0),
});

describe("analysts' views (on the emulator)", () => {
  const datasetId = uniqueName('views');
  let bq: BigQuery;
  let dataset: Dataset;
  let n = 0;
  const insert = async (table: string, rows: object[]) => {
    await dataset.table(table).insert(
      rows.map((r) => ({ ...lineage(n++), ...r })),
      { raw: false },
    );
  };
  const v = (name: string) => `\`${stack.bigqueryProject}.${datasetId}.${name}\``;
  const query = async (sql: string) => (await runQuery(bq, sql)).rows as Record<string, unknown>[];

  beforeAll(async () => {
    bq = createBigQuery({
      projectId: stack.bigqueryProject,
      location: 'US',
      apiEndpoint: stack.bigqueryEndpoint,
    });
    dataset = await ensureDataset(bq, datasetId, 'US');
    await ensureTables(bq, dataset, tableDefs().values(), pino({ level: 'silent' }));
    const snapshot = (version: number, extra: object) =>
      JSON.stringify({
        key: 'checkout',
        status: 'running',
        attributionWindowHours: 24,
        variants: [{ key: 'control' }, { key: 'treatment' }],
        phases: [
          { number: 0, startedAt: iso(T0 - 48 * H), endedAt: iso(T0 - 24 * H) },
          { number: 1, startedAt: iso(T0 - H), endedAt: null },
        ],
        version,
        ...extra,
      });
    const metrics = {
      primaryMetrics: [{ event: 'Order Completed', aggregation: 'conversion' }],
      secondaryMetrics: [{ event: 'Order Completed', aggregation: 'sum', name: 'revenue' }],
      guardrailMetrics: [{ event: 'Error', aggregation: 'count', inverse: true }],
    };
    await insert('experiments', [
      {
        entity_type: 'experiment',
        key: 'checkout',
        version: 1,
        action: 'created',
        changed_at: iso(T0 - 50 * H),
        sequence: 1,
        snapshot: snapshot(1, {}),
      },
      {
        entity_type: 'experiment',
        key: 'checkout',
        version: 2,
        action: 'updated',
        changed_at: iso(T0 - 2 * H),
        sequence: 2,
        snapshot: snapshot(2, metrics),
      },
      // An experiment whose baseline has no unit at all still reports its other variant.
      {
        entity_type: 'experiment',
        key: 'lonely',
        version: 1,
        action: 'created',
        changed_at: iso(T0 - 2 * H),
        sequence: 3,
        snapshot: JSON.stringify({
          key: 'lonely',
          variants: [{ key: 'a' }, { key: 'b' }],
          phases: [{ number: 0, startedAt: iso(T0 - H) }],
          primaryMetrics: [{ event: 'Order Completed', aggregation: 'sum' }],
        }),
      },
    ]);
    const exposure = (
      id: string,
      unit: string,
      variant: string,
      at: number,
      phase: number | null,
      inPhase: boolean,
      experiment = 'checkout',
    ) => ({
      message_id: id,
      unit_id: unit,
      experiment_key: experiment,
      variation_id: variant,
      timestamp: iso(at),
      received_at: iso(at),
      origin: 'collector',
      phase,
      in_running_phase: inPhase,
      attributes: null,
    });
    const units = Array.from({ length: 20 }, (_, i) => `p${i}`);
    await insert('exposures', [
      exposure('x1', 'u1', 'control', T0, 1, true),
      exposure('x2', 'u2', 'control', T0, 1, true),
      exposure('x3', 'u3', 'treatment', T0, 1, true),
      exposure('x4', 'u4', 'control', T0, 1, true),
      exposure('x5', 'u4', 'treatment', T0 + H, 1, true), // u4 saw both: excluded, counted in control
      exposure('x6', 'u1', 'treatment', T0 - 30 * H, 0, true), // phase 0: another analysis
      exposure('x7', 'u9', 'treatment', T0 - 10 * H, null, false), // between phases: never counted
      exposure('x8', 'u1', 'control', T0 + 2 * H, 1, true), // a second exposure: first wins
      ...units.map((u, i) => exposure(`xp${i}`, u, 'treatment', T0, 1, true)),
      exposure('xl', 'l1', 'b', T0, 0, true, 'lonely'),
    ]);
    const attributed = (
      id: string,
      unit: string,
      variant: string,
      event: string,
      value: number | null,
      phase = 1,
      experiment = 'checkout',
    ) => ({
      event_id: id,
      unit_id: unit,
      event,
      value,
      timestamp: iso(T0 + H),
      experiment_key: experiment,
      variation_id: variant,
      phase,
      exposed_at: iso(T0),
      multiple_variants: false,
      late: false,
      source_topic: 'raw',
      source_partition: 0,
      source_offset: 0,
    });
    await insert('experiment_events', [
      attributed('e1', 'u1', 'control', 'Order Completed', 10),
      attributed('e2', 'u1', 'control', 'Order Completed', 5),
      attributed('e3', 'u3', 'treatment', 'Order Completed', 20),
      attributed('e4', 'u4', 'control', 'Order Completed', 99), // excluded unit
      attributed('e5', 'u2', 'control', 'Error', null),
      attributed('e6', 'u2', 'control', 'Experiment Viewed', null), // not a declared metric
      attributed('e7', 'u1', 'treatment', 'Order Completed', 7, 0), // phase 0
      ...units.map((u, i) => attributed(`ep${i}`, u, 'treatment', 'Order Completed', 19.99)),
      attributed('el', 'l1', 'b', 'Order Completed', 3, 0, 'lonely'),
    ]);
    expect(await installViews(bq, stack.bigqueryProject, datasetId)).toEqual([
      'experiment_settings',
      'experiment_metrics',
      'experiment_units',
      'experiment_unit_metrics',
      'experiment_variant_exposures',
      'experiment_metric_summary',
    ]);
  });
  afterAll(async () => {
    await dataset?.delete({ force: true });
  });

  it('settings: the latest snapshot, its baseline and current phase', async () => {
    expect(
      await query(
        `SELECT experiment_key, version, baseline_variation_id, attribution_window_hours, current_phase FROM ${v('experiment_settings')} ORDER BY experiment_key`,
      ),
    ).toEqual([
      {
        experiment_key: 'checkout',
        version: 2,
        baseline_variation_id: 'control',
        attribution_window_hours: 24,
        current_phase: 1,
      },
      {
        experiment_key: 'lonely',
        version: 1,
        baseline_variation_id: 'a',
        attribution_window_hours: 72,
        current_phase: 0,
      },
    ]);
  });

  it('exposed units per phase and variant; excluded units once, in the variant seen first', async () => {
    expect(
      await query(
        `SELECT phase, variation_id, exposed_units, excluded_units FROM ${v('experiment_variant_exposures')} WHERE experiment_key = 'checkout' ORDER BY phase, variation_id`,
      ),
    ).toEqual([
      { phase: 0, variation_id: 'treatment', exposed_units: 1, excluded_units: 0 },
      { phase: 1, variation_id: 'control', exposed_units: 2, excluded_units: 1 },
      { phase: 1, variation_id: 'treatment', exposed_units: 21, excluded_units: 0 },
    ]);
  });

  it('sufficient statistics per declared metric only, zeros included, from the enricher’s attributions', async () => {
    const rows = await query(
      `SELECT variation_id, metric, aggregation, role, inverse, units, converted_units, value_sum, value_sum_squares, events_sum
       FROM ${v('experiment_metric_summary')} WHERE experiment_key = 'checkout' AND phase = 1 ORDER BY metric, variation_id`,
    );
    const round = (x: unknown) => Math.round(Number(x) * 1e6) / 1e6;
    expect(
      rows.map((r) => ({
        ...r,
        value_sum: round(r.value_sum),
        value_sum_squares: round(r.value_sum_squares),
      })),
    ).toEqual([
      {
        variation_id: 'control',
        metric: 'Error',
        aggregation: 'count',
        role: 'guardrail',
        inverse: true,
        units: 2,
        converted_units: 1,
        value_sum: 1,
        value_sum_squares: 1,
        events_sum: 1,
      },
      {
        variation_id: 'treatment',
        metric: 'Error',
        aggregation: 'count',
        role: 'guardrail',
        inverse: true,
        units: 21,
        converted_units: 0,
        value_sum: 0,
        value_sum_squares: 0,
        events_sum: 0,
      },
      {
        variation_id: 'control',
        metric: 'Order Completed',
        aggregation: 'conversion',
        role: 'primary',
        inverse: false,
        units: 2,
        converted_units: 1,
        value_sum: 1,
        value_sum_squares: 1,
        events_sum: 2,
      },
      {
        variation_id: 'treatment',
        metric: 'Order Completed',
        aggregation: 'conversion',
        role: 'primary',
        inverse: false,
        units: 21,
        converted_units: 21,
        value_sum: 21,
        value_sum_squares: 21,
        events_sum: 21,
      },
      {
        variation_id: 'control',
        metric: 'revenue',
        aggregation: 'sum',
        role: 'secondary',
        inverse: false,
        units: 2,
        converted_units: 1,
        value_sum: 15,
        value_sum_squares: 225,
        events_sum: 2,
      },
      {
        variation_id: 'treatment',
        metric: 'revenue',
        aggregation: 'sum',
        role: 'secondary',
        inverse: false,
        units: 21,
        converted_units: 21,
        value_sum: round(20 + 20 * 19.99),
        value_sum_squares: round(400 + 20 * 19.99 * 19.99),
        events_sum: 21,
      },
    ]);
  });

  it('keeps an experiment whose baseline has no exposed unit', async () => {
    expect(
      await query(
        `SELECT variation_id, units, value_sum FROM ${v('experiment_metric_summary')} WHERE experiment_key = 'lonely'`,
      ),
    ).toEqual([{ variation_id: 'b', units: 1, value_sum: 3 }]);
  });
});
