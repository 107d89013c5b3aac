import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import avro from 'avsc';

/** The Avro schemas in schemas/, by file name without extension. */
export const SCHEMA_NAMES = [
  'tracking-event',
  'exposure',
  'enriched-event',
  'window-aggregate',
  'registry-change',
  'failed-event',
  'experiment-result',
] as const;
export type SchemaName = (typeof SCHEMA_NAMES)[number];

/** schemas/ at the repository root, found from source (services/common) and build (dist/...) alike. */
export const SCHEMAS_DIR = findSchemasDir(__dirname);

function findSchemasDir(from: string): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'schemas', 'tracking-event.avsc'))) return join(dir, 'schemas');
  }
  throw new Error(`schemas/ not found above ${from}`);
}

/** The schema's JSON text as kept in schemas/<name>.avsc (or a released version of it). */
export function schemaText(name: SchemaName, version?: string): string {
  const file = version
    ? join(SCHEMAS_DIR, 'released', name, `${version}.avsc`)
    : join(SCHEMAS_DIR, `${name}.avsc`);
  return readFileSync(file, 'utf8');
}

/** The avsc type of a schema; timestamps stay epoch milliseconds (numbers). */
export function avroType(name: SchemaName, version?: string): avro.Type {
  return avro.Type.forSchema(JSON.parse(schemaText(name, version)) as avro.Schema);
}

/**
 * Why data written with `writer` cannot be read with `reader` (Avro schema resolution,
 * i.e. the registry's BACKWARD rule when `reader` is the newer schema); null when it can.
 */
export function backwardIncompatibility(reader: avro.Type, writer: avro.Type): string | null {
  try {
    reader.createResolver(writer);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}
