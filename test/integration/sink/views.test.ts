import type { BigQuery, Dataset } from '@google-cloud/bigquery';
import { toRow, type Row } from '../../../services/sink/rows';
import { ensureDataset, ensureTables, tableDefs, type TableName } from '../../../services/sink/tables';
import { installViews } from '../../../services/sink/views';
import { stack, uniqueName } from '../setup/stack';
import { bigquery, exposure, query, quietLogger, registryChange, testLoader, trackingEvent } from './helpers';

const H = 3600_000;
const T0 = Date.UTC(2026, 4, 1, 12, 0, 0);

describe("analysts' views (on the emulator)", () => {
  const datasetId = uniqueName('sink_views');
  let bq: BigQuery;
  let dataset: Dataset;
  const defs = tableDefs();

  beforeAll(async () => {
    bq = bigquery();
    dataset = await ensureDataset(bq, datasetId, 'US');
    await ensureTables(bq, dataset, defs.values(), quietLogger);
    const loader = testLoader(bq, dataset);
    let offset = 0;
    const load = async (table: TableName, records: object[]) => {
      const rows = records.map(
        (r) =>
          (
            toRow(
              defs.get(table)!,
              r as never,
              { topic: 't', partition: 0, offset: String(offset++) },
              null,
            ) as { row: Row }
          ).row,
      );
      await loader.load(defs.get(table)!, rows);
    };
    const snapshot = {
      key: 'checkout',
      attributionWindowHours: 24,
      variants: [{ key: 'control' }, { key: 'treatment' }],
    };
    await load('experiments', [
      registryChange(1, {
        key: 'checkout',
        snapshot: JSON.stringify({ ...snapshot, attributionWindowHours: 1 }),
      }),
      registryChange(2, { key: 'checkout', snapshot: JSON.stringify(snapshot) }),
    ]);
    const exp = (id: string, unit: string, variant: string, at: number) =>
      exposure(0, {
        messageId: id,
        unitId: unit,
        experimentKey: 'checkout',
        variationId: variant,
        timestamp: at,
      });
    await load('exposures', [
      exp('x1', 'u1', 'control', T0),
      exp('x2', 'u2', 'control', T0),
      exp('x3', 'u3', 'treatment', T0),
      exp('x4', 'u4', 'treatment', T0 + H),
      exp('x5', 'u5', 'control', T0),
      exp('x6', 'u5', 'treatment', T0 + H), // seen in two variants: left out
      exp('x7', 'u1', 'control', T0 + 2 * H), // a second exposure: first wins
    ]);
    const ev = (
      id: string,
      unit: string,
      event: string,
      at: number,
      props: object = {},
      type: 'track' | 'page' = 'track',
    ) =>
      trackingEvent(0, {
        messageId: id,
        unitId: unit,
        userId: unit,
        event,
        timestamp: at,
        properties: JSON.stringify(props),
        type,
      });
    await load('events', [
      ev('e1', 'u1', 'Order Completed', T0 + H, { revenue: 10 }),
      ev('e2', 'u1', 'Order Completed', T0 + 2 * H, { value: 5 }),
      ev('e3', 'u3', 'Order Completed', T0 + 23 * H, { revenue: 20 }), // next day, inside 24 h
      ev('e4', 'u4', 'Order Completed', T0 + 30 * H, { revenue: 99 }), // after u4's window
      ev('e5', 'u5', 'Order Completed', T0 + H, { revenue: 50 }), // excluded unit
      ev('e6', 'u2', 'Signup', T0 + H),
      ev('e7', 'u2', 'Checkout', T0 + H, {}, 'page'), // not a track event
      ev('e8', 'u1', 'Order Completed', T0 - H, { revenue: 7 }), // before exposure
    ]);
    expect(await installViews(bq, stack.bigqueryProject, datasetId)).toEqual([
      'experiment_units',
      'experiment_settings',
      'experiment_unit_metric_days',
      'experiment_unit_metrics',
      'experiment_variant_exposures',
      'experiment_metric_summary',
      'experiment_metric_daily_cumulative',
      'experiment_results',
    ]);
    // Installing again replaces them (every sink start does it).
    await installViews(bq, stack.bigqueryProject, datasetId);
  });
  afterAll(async () => {
    await dataset?.delete({ force: true });
  });

  const v = (name: string) => `\`${stack.bigqueryProject}.${datasetId}.${name}\``;

  it('exposed units per variant, deduplicated, multi-variant units left out', async () => {
    const rows = await query(
      bq,
      `SELECT variation_id, exposed_units, excluded_units FROM ${v('experiment_variant_exposures')} ORDER BY variation_id`,
    );
    expect(rows).toEqual([
      { variation_id: 'control', exposed_units: 2, excluded_units: 1 },
      { variation_id: 'treatment', exposed_units: 2, excluded_units: 1 },
    ]);
    const [s] = await query(
      bq,
      `SELECT attribution_window_hours, version, baseline_variation_id FROM ${v('experiment_settings')}`,
    );
    expect(s).toEqual({ attribution_window_hours: 24, version: 2, baseline_variation_id: 'control' });
  });

  it('per-unit aggregates per metric over the attribution window', async () => {
    const rows = await query(
      bq,
      `SELECT variation_id, metric, units, converted_units, events, events_sum_squares, value_sum, value_sum_squares, conversion_rate
       FROM ${v('experiment_metric_summary')} ORDER BY metric, variation_id`,
    );
    expect(rows).toEqual([
      {
        variation_id: 'control',
        metric: 'Order Completed',
        units: 2,
        converted_units: 1,
        events: 2,
        events_sum_squares: 4,
        value_sum: 15,
        value_sum_squares: 225,
        conversion_rate: 0.5,
      },
      {
        variation_id: 'treatment',
        metric: 'Order Completed',
        units: 2,
        converted_units: 1,
        events: 1,
        events_sum_squares: 1,
        value_sum: 20,
        value_sum_squares: 400,
        conversion_rate: 0.5,
      },
      {
        variation_id: 'control',
        metric: 'Signup',
        units: 2,
        converted_units: 1,
        events: 1,
        events_sum_squares: 1,
        value_sum: 0,
        value_sum_squares: 0,
        conversion_rate: 0.5,
      },
      {
        variation_id: 'treatment',
        metric: 'Signup',
        units: 2,
        converted_units: 0,
        events: 0,
        events_sum_squares: 0,
        value_sum: 0,
        value_sum_squares: 0,
        conversion_rate: 0,
      },
    ]);
  });

  it('daily cumulative aggregates', async () => {
    const rows = await query<Record<string, unknown>>(
      bq,
      `SELECT variation_id, CAST(day AS STRING) AS day, units, converted_units, value_sum, value_sum_squares
       FROM ${v('experiment_metric_daily_cumulative')} WHERE metric = 'Order Completed' ORDER BY day, variation_id`,
    );
    expect(rows).toEqual([
      {
        variation_id: 'control',
        day: '2026-05-01',
        units: 2,
        converted_units: 1,
        value_sum: 15,
        value_sum_squares: 225,
      },
      {
        variation_id: 'treatment',
        day: '2026-05-01',
        units: 2,
        converted_units: 0,
        value_sum: 0,
        value_sum_squares: 0,
      },
      {
        variation_id: 'control',
        day: '2026-05-02',
        units: 2,
        converted_units: 1,
        value_sum: 15,
        value_sum_squares: 225,
      },
      {
        variation_id: 'treatment',
        day: '2026-05-02',
        units: 2,
        converted_units: 1,
        value_sum: 20,
        value_sum_squares: 400,
      },
    ]);
  });

  it('results: rates, lift over the baseline and test statistics', async () => {
    const rows = await query<Record<string, number | string | null>>(
      bq,
      `SELECT variation_id, baseline_variation_id, conversion_rate, conversion_lift, conversion_z, value_per_unit, value_lift, value_t
       FROM ${v('experiment_results')} WHERE metric = 'Order Completed' ORDER BY variation_id`,
    );
    expect(rows[0]).toMatchObject({
      variation_id: 'control',
      baseline_variation_id: 'control',
      conversion_lift: 0,
      value_lift: 0,
    });
    expect(rows[1]).toMatchObject({
      variation_id: 'treatment',
      conversion_rate: 0.5,
      conversion_lift: 0,
      value_per_unit: 10,
    });
    expect(rows[1]!.value_lift).toBeCloseTo(10 / 7.5 - 1, 10);
    // Welch t from the sums: control mean 7.5, var (225 - 15²/2)/1 = 112.5; treatment mean 10, var (400 - 200)/1 = 200.
    expect(rows[1]!.value_t).toBeCloseTo(2.5 / Math.sqrt(112.5 / 2 + 200 / 2), 10);
    expect(rows[1]!.conversion_z).toBe(0);
  });
});
