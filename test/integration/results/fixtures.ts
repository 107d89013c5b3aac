// Facts for one experiment, written straight into the fact tables of a private dataset (as
// the sink would load them), so these suites test the results path whatever state the sink
// is in. Deterministic: 200 units per variant, control converts 20%, treatment 50%, the
// treatment raises errors (the guardrail, lower is better), three units saw both variants, and half the
// units (alike in both variants, converting ones among them) ordered before their exposure.
import type { BigQuery, Dataset } from '@google-cloud/bigquery';
import pino from 'pino';
import { ensureDataset, ensureTables, tableDefs } from '../../../services/sink/tables';
import { installViews } from '../../../services/sink/views';

const H = 3600_000;
const iso = (ms: number) => new Date(ms).toISOString();

export const UNITS_PER_VARIANT = 200;
export const CONVERTED = { control: 40, treatment: 100 };
export const MULTIPLE_EXPOSURE_UNITS = 3;

export interface Seeded {
  dataset: Dataset;
  /** When the phase started: exposures follow it. */
  phaseStart: number;
}

export async function createFactsDataset(bq: BigQuery, datasetId: string): Promise<Dataset> {
  const dataset = await ensureDataset(bq, datasetId, 'US');
  await ensureTables(bq, dataset, tableDefs().values(), pino({ level: 'silent' }));
  await installViews(bq, bq.projectId, datasetId);
  return dataset;
}

let rowCounter = 0;
async function insert(dataset: Dataset, table: string, rows: object[], at: number): Promise<void> {
  for (let i = 0; i < rows.length; i += 500) {
    await dataset.table(table).insert(
      rows.slice(i, i + 500).map((r) => ({
        row_id: `r${rowCounter}`,
        kafka_topic: 't',
        kafka_partition: 0,
        kafka_offset: rowCounter++,
        loaded_at: iso(at),
        ...r,
      })),
    );
  }
}

/** The registry's change record of the experiment (what experiment_settings reads). */
export async function seedExperiment(dataset: Dataset, key: string, phaseStart: number): Promise<void> {
  await insert(
    dataset,
    'experiments',
    [
      {
        entity_type: 'experiment',
        key,
        version: 5,
        action: 'transitioned:running',
        actor: 'alice',
        changed_at: iso(phaseStart),
        sequence: 1,
        snapshot: JSON.stringify({
          key,
          status: 'running',
          attributionWindowHours: 72,
          variants: [
            { key: 'control', weight: 50 },
            { key: 'treatment', weight: 50 },
          ],
          phases: [{ number: 0, startedAt: iso(phaseStart), endedAt: null }],
          primaryMetrics: [{ event: 'Order Completed', aggregation: 'conversion' }],
          secondaryMetrics: [{ event: 'Order Completed', aggregation: 'sum', name: 'revenue' }],
          guardrailMetrics: [{ event: 'Error', aggregation: 'count', name: 'errors', inverse: true }],
        }),
      },
    ],
    phaseStart,
  );
}

/** Exposures, attributed events and pre-exposure events of `key`'s phase 0. */
export async function seedFacts(dataset: Dataset, key: string, phaseStart: number): Promise<void> {
  const exposures: object[] = [];
  const attributed: object[] = [];
  const events: object[] = [];
  const exposure = (unit: string, variant: string, at: number, n: number) => ({
    message_id: `${key}-x-${unit}-${n}`,
    unit_id: unit,
    experiment_key: key,
    variation_id: variant,
    timestamp: iso(at),
    received_at: iso(at),
    origin: 'collector',
    phase: 0,
    in_running_phase: true,
    attributes: null,
  });
  const attribute = (
    unit: string,
    variant: string,
    event: string,
    value: number | null,
    n: number,
    exposedAt: number,
  ) => ({
    event_id: `${key}-e-${unit}-${n}`,
    unit_id: unit,
    event,
    value,
    timestamp: iso(exposedAt + H),
    experiment_key: key,
    variation_id: variant,
    phase: 0,
    exposed_at: iso(exposedAt),
    multiple_variants: false,
    late: false,
    source_topic: 'raw',
    source_partition: 0,
    source_offset: n,
  });
  for (const variant of ['control', 'treatment'] as const) {
    for (let i = 0; i < UNITS_PER_VARIANT; i++) {
      const unit = `${key}-${variant}-${i}`;
      const at = phaseStart + (i % 50) * 60_000;
      exposures.push(exposure(unit, variant, at, 0));
      // The converting units are among those that ordered before (CUPED has signal to use).
      if (i % 2 === 0 && i / 2 < CONVERTED[variant]) {
        attributed.push(attribute(unit, variant, 'Order Completed', 20 + (i % 7), 1, at));
      }
      // Errors: one per 10 control units, one per unit in 40% of treatment units.
      if (variant === 'control' ? i % 10 === 0 : i % 5 < 2) {
        attributed.push(attribute(unit, variant, 'Error', null, 2, at));
      }
      // Before exposure: every other unit ordered, alike in both variants (CUPED's covariate).
      if (i % 2 === 0) {
        events.push({
          message_id: `${key}-pre-${unit}`,
          type: 'track',
          event: 'Order Completed',
          user_id: unit,
          anonymous_id: null,
          unit_id: unit,
          timestamp: iso(at - 24 * H),
          original_timestamp: null,
          sent_at: null,
          received_at: iso(at - 24 * H),
          value: 10,
          properties: '{"value":10}',
          traits: null,
          context: '{}',
          source_id: 'test',
        });
      }
    }
  }
  for (let i = 0; i < MULTIPLE_EXPOSURE_UNITS; i++) {
    const unit = `${key}-both-${i}`;
    exposures.push(
      exposure(unit, 'control', phaseStart, 0),
      exposure(unit, 'treatment', phaseStart + 60_000, 1),
    );
  }
  // History first, exposures last: a refresh running meanwhile sees no unit, or all facts.
  await insert(dataset, 'events', events, phaseStart);
  await insert(dataset, 'experiment_events', attributed, phaseStart);
  await insert(dataset, 'exposures', exposures, phaseStart);
}
