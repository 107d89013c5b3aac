// Kafka record -> BigQuery row of one table, with the lineage columns; and the
// failed_events rows the sink writes itself for input it cannot load.

import { ConversionError, toBigQueryRow, wellFormed } from './bigquery-schema';
import type { TableDef, TableName } from './tables';

/** Where a record came from. */
export interface Lineage {
  topic: string;
  partition: number;
  offset: string;
}

/** A row ready for the Storage Write API (JSONWriter values), with its deterministic id. */
export interface Row {
  table: TableName;
  rowId: string;
  json: Record<string, unknown>;
  /** Size estimate for request sizing (the Kafka value plus the lineage columns). */
  bytes: number;
  /** The Kafka value, kept for the failed_events row if BigQuery rejects this one. */
  source: Buffer | null;
  lineage: Lineage;
}

export interface Failure {
  code: string;
  path: string;
  message: string;
}

/**
 * Converts a decoded record into a row of `def`. Returns a failure instead of throwing
 * when a value cannot be converted (the row then goes to failed_events).
 */
export function toRow(
  def: TableDef,
  record: Record<string, unknown>,
  lineage: Lineage,
  source: Buffer | null,
  now: Date = new Date(),
): { row: Row } | { failure: Failure } {
  try {
    const json = toBigQueryRow(def.shape, record);
    const rowId = def.rowId(record);
    Object.assign(json, lineageColumns(rowId, lineage, now));
    return { row: makeRow(def.name, rowId, json, lineage, source) };
  } catch (err) {
    if (err instanceof ConversionError) {
      return { failure: { code: 'unconvertible', path: err.path, message: err.message } };
    }
    return { failure: { code: 'unconvertible', path: '', message: (err as Error).message } };
  }
}

function lineageColumns(rowId: string, lineage: Lineage, now: Date): Record<string, unknown> {
  return {
    row_id: rowId,
    kafka_topic: lineage.topic,
    kafka_partition: lineage.partition,
    kafka_offset: Number(lineage.offset),
    loaded_at: now,
  };
}

function makeRow(
  table: TableName,
  rowId: string,
  json: Record<string, unknown>,
  lineage: Lineage,
  source: Buffer | null,
): Row {
  // The encoded row is about the size of the Avro value plus column tags and lineage;
  // measuring the real protobuf size would cost a second encoding.
  const bytes = (source?.length ?? 0) * 2 + 256 + rowId.length;
  return { table, rowId, json, bytes, source, lineage };
}

/**
 * A failed_events row for a record the sink could not load: undecodable, unconvertible or
 * rejected by BigQuery. Its id is derived from the record's position in Kafka, so a replay
 * after a crash writes the same row once.
 */
export function sinkFailureRow(
  lineage: Lineage,
  payload: Buffer | null,
  reasons: Failure[],
  now: Date = new Date(),
  messageId: string | null = null,
): Row {
  const failureId = `sink:${lineage.topic}:${lineage.partition}:${lineage.offset}`;
  const json: Record<string, unknown> = {
    failure_id: failureId,
    stage: 'sink',
    failed_at: now,
    message_id: messageId === null ? null : wellFormed(messageId),
    payload: payload ?? Buffer.alloc(0),
    reasons: JSON.stringify(
      reasons.map((r) => ({ code: r.code, path: r.path, message: wellFormed(r.message.slice(0, 10_000)) })),
    ),
    source_id: null,
    source_topic: lineage.topic,
    source_partition: lineage.partition,
    source_offset: Number(lineage.offset),
    ...lineageColumns(failureId, lineage, now),
  };
  return makeRow('failed_events', failureId, json, lineage, payload);
}
