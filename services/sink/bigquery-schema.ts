// The one mapping from Avro to BigQuery, for types (table schemas) and values (rows).
//
// | Avro                                   | BigQuery                          | value sent          |
// | -------------------------------------- | --------------------------------- | ------------------- |
// | string                                 | STRING                            | as is (well-formed) |
// | string with "xp.bigquery": "JSON"      | JSON                              | JSON text, checked  |
// | int, long                              | INT64                             | number              |
// | float, double                          | FLOAT64                           | finite number       |
// | boolean                                | BOOL                              | as is               |
// | bytes, fixed                           | BYTES                             | Buffer              |
// | long + timestamp-millis / -micros      | TIMESTAMP                         | Date                |
// | enum                                   | STRING                            | the symbol          |
// | ["null", X] (either order)             | X, mode NULLABLE                  | null or X's value   |
// | array of X (X not a record)            | X, mode REPEATED                  | array               |
// | record, array of records               | JSON                              | JSON text           |
// | map of X                               | JSON                              | JSON text           |
//
// Nested records are JSON columns, not RECORD (STRUCT): the emulator's Storage Write API
// refuses RECORD columns ("Attempted to convert a STRUCT with no fields"), and JSON works
// the same on BigQuery (JSON_VALUE(reasons[0].code), JSON_QUERY_ARRAY(reasons)), so one
// schema serves both. Values are in the form the Storage Write API's JSONWriter encodes
// (Date for TIMESTAMP, Buffer for BYTES). Strings must be well-formed UTF-16: a lone
// surrogate has no UTF-8 encoding and BigQuery refuses the whole append, so such a value
// is caught here and its record goes to failed_events, deterministically.
//
// Column names are the Avro field names in snake_case (messageId -> message_id). A field
// that is not nullable is REQUIRED when a table is created; columns added later to an
// existing table are always NULLABLE (BigQuery cannot add REQUIRED columns). Other unions
// and nested arrays have no BigQuery equivalent and are refused when the schema is mapped,
// at start-up, never at run time.

import type { TableField } from '@google-cloud/bigquery';

/** A column of a BigQuery table schema (the REST API's TableFieldSchema). */
export type BqField = TableField & { name: string; type: BqType; mode: BqMode; fields?: BqField[] };
export type BqType = 'STRING' | 'INT64' | 'FLOAT64' | 'BOOL' | 'BYTES' | 'TIMESTAMP' | 'JSON' | 'RECORD';
export type BqMode = 'REQUIRED' | 'NULLABLE' | 'REPEATED';

/** The schema cannot be expressed in BigQuery; thrown at start-up. */
export class MappingError extends Error {
  override name = 'MappingError';
}

/** A value that cannot be converted to its column (the row goes to failed_events). */
export class ConversionError extends Error {
  override name = 'ConversionError';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
  }
}

/**
 * Columns every table has besides the mapped fields: the deterministic id the sink
 * de-duplicates on (the event id for event tables), and where the row came from in Kafka.
 * Names avoid BigQuery's reserved prefixes (_PARTITION, _TABLE_, ...).
 */
export const LINEAGE_FIELDS: BqField[] = [
  {
    name: 'row_id',
    type: 'STRING',
    mode: 'REQUIRED',
    description: 'Deterministic id of the row (event id for event tables): the sink writes one row per id.',
  },
  {
    name: 'kafka_topic',
    type: 'STRING',
    mode: 'REQUIRED',
    description: 'Lineage: Kafka topic the record was read from.',
  },
  {
    name: 'kafka_partition',
    type: 'INT64',
    mode: 'REQUIRED',
    description: 'Lineage: Kafka partition the record was read from.',
  },
  {
    name: 'kafka_offset',
    type: 'INT64',
    mode: 'REQUIRED',
    description: 'Lineage: Kafka offset of the record.',
  },
  {
    name: 'loaded_at',
    type: 'TIMESTAMP',
    mode: 'REQUIRED',
    description: 'When the sink converted the record for loading.',
  },
];

/** camelCase (or PascalCase) to snake_case: messageId -> message_id, userID -> user_id. */
export function snakeCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();
}

// --- Avro schema JSON, the parts the mapping reads ---------------------------------------

type AvroSchema = string | AvroComplex | AvroSchema[];
interface AvroComplex {
  type: string | AvroSchema;
  name?: string;
  namespace?: string;
  logicalType?: string;
  symbols?: string[];
  items?: AvroSchema;
  values?: AvroSchema;
  fields?: AvroFieldSchema[];
  doc?: string;
}
interface AvroFieldSchema {
  name: string;
  type: AvroSchema;
  doc?: string;
  default?: unknown;
  'xp.bigquery'?: string;
}

/**
 * The resolved shape of one Avro type, used both to build the BigQuery field and to
 * convert values; computed once per schema.
 */
export type Shape =
  | { kind: 'string'; json: boolean }
  | { kind: 'int' }
  | { kind: 'float' }
  | { kind: 'bool' }
  | { kind: 'bytes' }
  | { kind: 'timestamp'; unit: 'millis' | 'micros' }
  | { kind: 'enum' }
  | { kind: 'json-map' }
  | { kind: 'nullable'; inner: Shape }
  | { kind: 'array'; items: Shape }
  | { kind: 'record'; fields: FieldShape[] };

export interface FieldShape {
  avroName: string;
  column: string;
  doc: string | undefined;
  shape: Shape;
}

const PRIMITIVES = new Set(['string', 'int', 'long', 'float', 'double', 'boolean', 'bytes', 'null']);

/** The fields of a top-level Avro record schema, resolved for mapping. */
export function recordShape(schema: unknown): FieldShape[] {
  const named = new Map<string, Shape>();
  const root = schema as AvroComplex;
  if (typeof root !== 'object' || root === null || root.type !== 'record') {
    throw new MappingError('the top-level Avro schema must be a record');
  }
  const shape = resolve(root, named, root.namespace, '', false);
  if (shape.kind !== 'record') throw new MappingError('the top-level Avro schema must be a record');
  return shape.fields;
}

function resolve(
  s: AvroSchema,
  named: Map<string, Shape>,
  ns: string | undefined,
  path: string,
  json: boolean,
): Shape {
  if (Array.isArray(s)) {
    const nonNull = s.filter((t) => t !== 'null' && (t as AvroComplex).type !== 'null');
    if (s.length === 2 && nonNull.length === 1) {
      const inner = resolve(nonNull[0]!, named, ns, path, json);
      if (inner.kind === 'array') throw new MappingError(`${path}: a nullable array has no BigQuery mode`);
      return { kind: 'nullable', inner };
    }
    throw new MappingError(`${path}: only ["null", X] unions map to BigQuery (got ${JSON.stringify(s)})`);
  }
  if (typeof s === 'string') {
    if (!PRIMITIVES.has(s)) {
      const ref = named.get(s) ?? named.get(ns ? `${ns}.${s}` : s);
      if (!ref) throw new MappingError(`${path}: unknown named type ${s}`);
      return ref;
    }
    return primitive(s, path, json);
  }
  if (typeof s.type !== 'string') return resolve(s.type, named, ns, path, json);
  const { logicalType } = s;
  switch (s.type) {
    case 'long':
      if (logicalType === 'timestamp-millis') return { kind: 'timestamp', unit: 'millis' };
      if (logicalType === 'timestamp-micros') return { kind: 'timestamp', unit: 'micros' };
      return primitive('long', path, json);
    case 'enum':
      return remember(s, named, ns, { kind: 'enum' });
    case 'fixed':
      return remember(s, named, ns, { kind: 'bytes' });
    case 'map':
      return { kind: 'json-map' };
    case 'array': {
      const items = resolve(s.items!, named, ns, `${path}[]`, false);
      if (items.kind === 'array' || items.kind === 'nullable') {
        throw new MappingError(`${path}: arrays of arrays or of nullable items have no BigQuery equivalent`);
      }
      return { kind: 'array', items };
    }
    case 'record': {
      const recordNs = s.namespace ?? (s.name?.includes('.') ? s.name.slice(0, s.name.lastIndexOf('.')) : ns);
      const shape: Shape = { kind: 'record', fields: [] };
      remember(s, named, ns, shape); // before the fields, for recursive references
      const seen = new Set<string>();
      for (const f of s.fields ?? []) {
        const column = snakeCase(f.name);
        if (seen.has(column)) throw new MappingError(`${path}${f.name}: two fields map to column ${column}`);
        seen.add(column);
        shape.fields.push({
          avroName: f.name,
          column,
          doc: f.doc,
          shape: resolve(
            f.type,
            named,
            recordNs,
            `${path}${f.name}.`.replace(/\.$/, ''),
            f['xp.bigquery'] === 'JSON',
          ),
        });
      }
      return shape;
    }
    default:
      return primitive(s.type, path, json);
  }
}

function remember(s: AvroComplex, named: Map<string, Shape>, ns: string | undefined, shape: Shape): Shape {
  if (s.name) {
    const full = s.name.includes('.') ? s.name : `${s.namespace ?? ns ?? ''}.${s.name}`.replace(/^\./, '');
    named.set(full, shape);
    named.set(s.name, shape);
  }
  return shape;
}

function primitive(name: string, path: string, json: boolean): Shape {
  switch (name) {
    case 'string':
      return { kind: 'string', json };
    case 'int':
    case 'long':
      return { kind: 'int' };
    case 'float':
    case 'double':
      return { kind: 'float' };
    case 'boolean':
      return { kind: 'bool' };
    case 'bytes':
      return { kind: 'bytes' };
    default:
      throw new MappingError(`${path}: Avro type ${name} has no BigQuery column type`);
  }
}

// --- types ------------------------------------------------------------------------------

/** The BigQuery columns of an Avro record schema (without the lineage columns). */
export function bigQueryFields(schema: unknown): BqField[] {
  return recordShape(schema).map(fieldOf);
}

function fieldOf(f: FieldShape): BqField {
  let shape = f.shape;
  let mode: BqMode = 'REQUIRED';
  if (shape.kind === 'nullable') {
    mode = 'NULLABLE';
    shape = shape.inner;
  } else if (shape.kind === 'array' && !isNested(shape)) {
    mode = 'REPEATED';
    shape = shape.items;
  }
  const field: BqField = { name: f.column, type: isNested(shape) ? 'JSON' : typeOf(shape), mode };
  if (f.doc) field.description = f.doc.slice(0, 1024);
  return field;
}

/** A record, or an array of records: one JSON column (see the header). */
function isNested(shape: Shape): boolean {
  return shape.kind === 'record' || (shape.kind === 'array' && shape.items.kind === 'record');
}

function typeOf(shape: Shape): BqType {
  switch (shape.kind) {
    case 'string':
      return shape.json ? 'JSON' : 'STRING';
    case 'int':
      return 'INT64';
    case 'float':
      return 'FLOAT64';
    case 'bool':
      return 'BOOL';
    case 'bytes':
      return 'BYTES';
    case 'timestamp':
      return 'TIMESTAMP';
    case 'enum':
      return 'STRING';
    case 'json-map':
      return 'JSON';
    case 'record':
      return 'JSON';
    case 'nullable':
    case 'array':
      throw new MappingError('nested nullable or array shape');
  }
}

// --- values -----------------------------------------------------------------------------

// BigQuery's TIMESTAMP range, 0001-01-01 to 9999-12-31, in epoch milliseconds.
const MIN_TS_MS = -62_135_596_800_000;
const MAX_TS_MS = 253_402_300_799_999;

/**
 * Converts a decoded Avro record (avsc's JS values) into a row for the Storage Write API's
 * JSONWriter, keyed by column name. Throws ConversionError with the field path for a value
 * BigQuery would reject (invalid JSON text, a lone surrogate, a timestamp out of range,
 * NaN), so the record goes to failed_events instead of failing a whole append.
 */
export function toBigQueryRow(
  fields: FieldShape[],
  record: Record<string, unknown>,
): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const f of fields) {
    const value = record[f.avroName];
    const inner = f.shape.kind === 'nullable' ? f.shape.inner : f.shape;
    if (isNested(inner)) {
      if (f.shape.kind === 'nullable' && (value === null || value === undefined)) row[f.column] = null;
      else row[f.column] = JSON.stringify(jsonValue(inner, value, f.avroName));
    } else {
      row[f.column] = convert(f.shape, value, f.avroName);
    }
  }
  return row;
}

function convert(shape: Shape, value: unknown, path: string): unknown {
  if (shape.kind === 'nullable')
    return value === null || value === undefined ? null : convert(shape.inner, value, path);
  if (value === null || value === undefined) throw new ConversionError(path, 'required value is missing');
  switch (shape.kind) {
    case 'string':
      if (typeof value !== 'string')
        throw new ConversionError(path, `expected a string, got ${typeof value}`);
      checkWellFormed(value, path);
      if (shape.json) checkJson(value, path);
      return value;
    case 'enum':
      if (typeof value !== 'string')
        throw new ConversionError(path, `expected an enum symbol, got ${typeof value}`);
      return value;
    case 'int':
      if (typeof value === 'bigint') return value.toString();
      if (typeof value !== 'number' || !Number.isInteger(value))
        throw new ConversionError(path, `expected an integer, got ${String(value)}`);
      return value;
    case 'float':
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        throw new ConversionError(path, `expected a finite number, got ${String(value)}`);
      }
      return value;
    case 'bool':
      if (typeof value !== 'boolean')
        throw new ConversionError(path, `expected a boolean, got ${typeof value}`);
      return value;
    case 'bytes':
      if (!Buffer.isBuffer(value)) throw new ConversionError(path, 'expected bytes');
      return value;
    case 'timestamp':
      return new Date(timestampMs(shape.unit, value, path));
    case 'json-map': {
      const text = JSON.stringify(value);
      checkWellFormed(text, path);
      return text;
    }
    case 'array':
      if (!Array.isArray(value)) throw new ConversionError(path, 'expected an array');
      return value.map((v, i) => convert(shape.items, v, `${path}.${i}`));
    case 'record':
      return JSON.stringify(jsonValue(shape, value, path));
  }
}

/** A nested value as JSON: snake_case keys, ISO timestamps, base64 bytes. */
function jsonValue(shape: Shape, value: unknown, path: string): unknown {
  if (shape.kind === 'nullable')
    return value === null || value === undefined ? null : jsonValue(shape.inner, value, path);
  switch (shape.kind) {
    case 'record': {
      if (typeof value !== 'object' || value === null) throw new ConversionError(path, 'expected a record');
      const out: Record<string, unknown> = {};
      for (const f of shape.fields) {
        out[f.column] = jsonValue(
          f.shape,
          (value as Record<string, unknown>)[f.avroName],
          `${path}.${f.avroName}`,
        );
      }
      return out;
    }
    case 'array':
      if (!Array.isArray(value)) throw new ConversionError(path, 'expected an array');
      return value.map((v, i) => jsonValue(shape.items, v, `${path}.${i}`));
    case 'timestamp':
      return new Date(timestampMs(shape.unit, value, path)).toISOString();
    case 'bytes':
      if (!Buffer.isBuffer(value)) throw new ConversionError(path, 'expected bytes');
      return value.toString('base64');
    case 'string':
      if (shape.json) {
        const text = convert(shape, value, path) as string;
        return JSON.parse(text) as unknown;
      }
      return convert(shape, value, path);
    case 'json-map':
      return convert(shape, value, path) === null ? null : value;
    default:
      return convert(shape, value, path);
  }
}

function timestampMs(unit: 'millis' | 'micros', value: unknown, path: string): number {
  const ms = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : NaN;
  const millis = unit === 'micros' ? Math.floor(ms / 1000) : ms;
  if (!Number.isFinite(millis) || millis < MIN_TS_MS || millis > MAX_TS_MS) {
    throw new ConversionError(
      path,
      `timestamp ${String(value)} is outside BigQuery's range (years 1 to 9999)`,
    );
  }
  return millis;
}

/**
 * A lone UTF-16 surrogate cannot be encoded as UTF-8; in JSON text it hides as an escape
 * ("\\ud800"), which JSON.parse accepts but BigQuery's JSON parser refuses.
 */
function checkWellFormed(text: string, path: string): void {
  if (hasLoneSurrogate(text)) throw new ConversionError(path, 'string contains a lone UTF-16 surrogate');
  if (text.includes('\\u') && /\\u[dD][89a-fA-F]/.test(text)) {
    const parsed = safeParse(text);
    if (parsed.ok && !deepWellFormed(parsed.value)) {
      throw new ConversionError(path, 'JSON text contains a lone UTF-16 surrogate escape');
    }
  }
}

function safeParse(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

function deepWellFormed(v: unknown): boolean {
  if (typeof v === 'string') return !hasLoneSurrogate(v);
  if (Array.isArray(v)) return v.every(deepWellFormed);
  if (v && typeof v === 'object') {
    return Object.entries(v).every(([k, x]) => !hasLoneSurrogate(k) && deepWellFormed(x));
  }
  return true;
}

function checkJson(text: string, path: string): void {
  try {
    JSON.parse(text);
  } catch (err) {
    throw new ConversionError(path, `not valid JSON text (${(err as Error).message})`);
  }
}

// String.prototype.isWellFormed/toWellFormed (ES2024), without raising the compile target.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');

export function hasLoneSurrogate(text: string): boolean {
  return LONE_SURROGATE.test(text);
}

/** The text with each lone surrogate replaced by U+FFFD. */
export function wellFormed(text: string): string {
  return text.replace(LONE_SURROGATES, '\uFFFD');
}
