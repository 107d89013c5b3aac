// The sink's tables: which Avro schema each is derived from, its row id, partitioning and
// clustering; and creating or evolving them in BigQuery at start-up.

import type { BigQuery, Dataset } from '@google-cloud/bigquery';
import type { Logger } from '../common/logger';
import { schemaText, type SchemaName } from '../common/schemas';
import type {
  EnrichedEvent,
  Exposure,
  FailedEvent,
  RegistryChange,
  TrackingEvent,
  WindowAggregate,
} from '../common/records';
import {
  LINEAGE_FIELDS,
  bigQueryFields,
  recordShape,
  type BqField,
  type FieldShape,
} from './bigquery-schema';
import { runQuery } from './bigquery-jobs';

export type TableName =
  | 'exposures'
  | 'events'
  | 'experiment_events'
  | 'variant_window_metrics'
  | 'experiments'
  | 'failed_events'
  | 'experiment_results';

export const TABLE_NAMES: TableName[] = [
  'exposures',
  'events',
  'experiment_events',
  'variant_window_metrics',
  'experiments',
  'failed_events',
  'experiment_results',
];

export interface TableDef {
  name: TableName;
  description: string;
  schema: SchemaName;
  /** The Avro fields, resolved once. */
  shape: FieldShape[];
  /** Columns mapped from the Avro fields (no column is computed here), then lineage. */
  fields: BqField[];
  /** Deterministic id: a replayed record gets the same id (one row per id). */
  rowId: (record: Record<string, unknown>) => string;
  /** DAY partitioning column (the event time). */
  partitionField: string;
  clustering: string[];
}

interface Spec {
  name: TableName;
  description: string;
  schema: SchemaName;
  rowId: (r: never) => string;
  partitionField: string;
  clustering: string[];
}

const SPECS: Spec[] = [
  {
    name: 'exposures',
    description:
      'One row per exposure (unit saw a variant; deduplicated on message_id, with its phase), from xp.exposures.clean.v1.',
    schema: 'exposure',
    rowId: (r: Exposure) => r.messageId,
    partitionField: 'timestamp',
    clustering: ['experiment_key', 'variation_id'],
  },
  {
    name: 'events',
    description:
      'One row per accepted tracking event (deduplicated on message_id by the enricher), from xp.events.clean.v1.',
    schema: 'tracking-event',
    rowId: (r: TrackingEvent) => r.messageId,
    partitionField: 'timestamp',
    clustering: ['event', 'unit_id'],
  },
  {
    name: 'experiment_events',
    description:
      'One row per (event, experiment) attribution, from the enricher (xp.events.enriched.v1; late ones flagged).',
    schema: 'enriched-event',
    rowId: (r: EnrichedEvent) => JSON.stringify([r.eventId, r.experimentKey]),
    partitionField: 'timestamp',
    clustering: ['experiment_key', 'variation_id'],
  },
  {
    name: 'variant_window_metrics',
    description:
      'Final per-variant aggregates of each event-time window and input partition, from xp.aggregates.v1.',
    schema: 'window-aggregate',
    rowId: (r: WindowAggregate) =>
      JSON.stringify([r.experimentKey, r.variationId, r.metric, r.windowStart, r.partition]),
    partitionField: 'window_start',
    clustering: ['experiment_key', 'variation_id'],
  },
  {
    name: 'experiments',
    description:
      'Every committed change of a flag or experiment (one row per version: full history), from xp.registry.changes.v1.',
    schema: 'registry-change',
    // Not the outbox sequence alone: a reset registry database restarts it.
    rowId: (r: RegistryChange) => JSON.stringify([r.entityType, r.key, r.version, r.changedAt]),
    partitionField: 'changed_at',
    clustering: ['entity_type', 'key'],
  },
  {
    name: 'failed_events',
    description:
      'Input that could not be accepted or loaded, with every reason, from xp.events.failed.v1 and the sink itself.',
    schema: 'failed-event',
    rowId: (r: FailedEvent) => r.failureId,
    partitionField: 'failed_at',
    clustering: ['stage'],
  },
  {
    name: 'experiment_results',
    description:
      'Results snapshots (experiment, phase, metric, variant, every statistic and health check), from the results service via xp.results.v1.',
    schema: 'experiment-result',
    // One row per snapshot, metric and variant: a re-delivered record keeps its id.
    rowId: (r: { snapshotId: string; metric: string; variationId: string }) =>
      JSON.stringify([r.snapshotId, r.metric, r.variationId]),
    partitionField: 'snapshot_at',
    clustering: ['experiment_key', 'metric'],
  },
];

/**
 * The table definitions, derived from the Avro schemas in schemas/ (or from `schemas`,
 * which tests use to stand in for a newer schema version).
 */
export function tableDefs(schemas: Partial<Record<SchemaName, unknown>> = {}): Map<TableName, TableDef> {
  const defs = new Map<TableName, TableDef>();
  for (const spec of SPECS) {
    const avro = schemas[spec.schema] ?? JSON.parse(schemaText(spec.schema));
    const fields = [...bigQueryFields(avro), ...LINEAGE_FIELDS];
    const names = new Set<string>();
    for (const f of fields) {
      if (names.has(f.name)) throw new Error(`table ${spec.name}: column ${f.name} is defined twice`);
      names.add(f.name);
    }
    defs.set(spec.name, {
      name: spec.name,
      description: spec.description,
      schema: spec.schema,
      shape: recordShape(avro),
      fields,
      rowId: spec.rowId as (r: Record<string, unknown>) => string,
      partitionField: spec.partitionField,
      clustering: spec.clustering,
    });
  }
  return defs;
}

/** Creates the dataset when missing. */
export async function ensureDataset(bq: BigQuery, datasetId: string, location: string): Promise<Dataset> {
  const dataset = bq.dataset(datasetId, { location });
  const [exists] = await dataset.exists();
  if (!exists) {
    try {
      await dataset.create({ location });
    } catch (err) {
      // Another instance created it meanwhile.
      if ((err as { code?: number }).code !== 409) throw err;
    }
  }
  return dataset;
}

/**
 * Creates each missing table (DAY-partitioned on the event time, clustered) and adds
 * columns the schema gained since the table was created. Adding a column is
 * `ALTER TABLE ADD COLUMN IF NOT EXISTS` first, then setMetadata with the full schema: the
 * emulator breaks later inserts after a setMetadata alone, and the pair is valid on real
 * BigQuery. Running sinks keep working meanwhile: their writers send only their own columns.
 */
export async function ensureTables(
  bq: BigQuery,
  dataset: Dataset,
  defs: Iterable<TableDef>,
  logger: Logger,
): Promise<void> {
  for (const def of defs) {
    const table = dataset.table(def.name);
    const [exists] = await table.exists();
    if (!exists) {
      try {
        await dataset.createTable(def.name, {
          description: def.description,
          schema: { fields: def.fields },
          timePartitioning: { type: 'DAY', field: def.partitionField },
          clustering: { fields: def.clustering },
        });
        logger.info({ table: def.name }, 'table created');
        continue;
      } catch (err) {
        if ((err as { code?: number }).code !== 409) throw err;
      }
    }
    const [meta] = await table.getMetadata();
    const current = (meta.schema?.fields ?? []) as BqField[];
    const have = new Set(current.map((f) => f.name.toLowerCase()));
    // A column of another type cannot be changed in place (e.g. failed_events.reasons was a
    // RECORD before nested records became JSON): say so rather than fail every append.
    const byName = new Map(current.map((f) => [f.name.toLowerCase(), f]));
    for (const f of def.fields) {
      const had = byName.get(f.name.toLowerCase());
      if (had && normalType(had.type) !== normalType(f.type)) {
        throw new Error(
          `table ${def.name}: column ${f.name} is ${had.type}, the sink writes ${f.type}; migrate it (docs/sink-write-api.md)`,
        );
      }
    }
    const missing = def.fields.filter((f) => !have.has(f.name.toLowerCase()));
    if (missing.length === 0) continue;
    for (const f of missing) {
      await runQuery(
        bq,
        `ALTER TABLE \`${dataset.id}.${def.name}\` ADD COLUMN IF NOT EXISTS \`${f.name}\` ${columnDdl(f)}`,
      );
    }
    const added = missing.map(
      (f) => ({ ...f, mode: f.mode === 'REQUIRED' ? 'NULLABLE' : f.mode }) as BqField,
    );
    const [fresh] = await table.getMetadata();
    const freshFields = (fresh.schema?.fields ?? []) as BqField[];
    const freshNames = new Set(freshFields.map((f) => f.name.toLowerCase()));
    await table.setMetadata({
      schema: { fields: [...freshFields, ...added.filter((f) => !freshNames.has(f.name.toLowerCase()))] },
    });
    logger.info({ table: def.name, columns: missing.map((f) => f.name) }, 'columns added');
  }
}

const TYPE_ALIASES: Record<string, string> = {
  INTEGER: 'INT64',
  FLOAT: 'FLOAT64',
  BOOLEAN: 'BOOL',
  STRUCT: 'RECORD',
};

function normalType(t: string | undefined): string {
  const u = (t ?? '').toUpperCase();
  return TYPE_ALIASES[u] ?? u;
}

/** The DDL type of a column (without NOT NULL: added columns are nullable). */
export function columnDdl(f: BqField): string {
  const base =
    f.type === 'RECORD'
      ? `STRUCT<${(f.fields ?? []).map((c) => `\`${c.name}\` ${columnDdl(c as BqField)}`).join(', ')}>`
      : f.type;
  return f.mode === 'REPEATED' ? `ARRAY<${base}>` : base;
}
