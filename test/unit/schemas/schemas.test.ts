import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import avro from 'avsc';
import {
  SCHEMA_NAMES,
  SCHEMAS_DIR,
  avroType,
  backwardIncompatibility,
  schemaText,
} from '../../../services/common/schemas';

type Field = { name: string; doc?: string; type: unknown };

/** Every field of every record reachable from a schema, with its dotted path. */
function fieldsOf(schema: unknown, prefix = ''): Array<{ path: string; field: Field }> {
  if (Array.isArray(schema)) return schema.flatMap((s) => fieldsOf(s, prefix));
  if (!schema || typeof schema !== 'object') return [];
  const s = schema as { type?: unknown; fields?: Field[]; items?: unknown };
  if (s.type === 'record') {
    return (s.fields ?? []).flatMap((f) => [
      { path: prefix + f.name, field: f },
      ...fieldsOf(f.type, `${prefix}${f.name}.`),
    ]);
  }
  if (s.type === 'array') return fieldsOf(s.items, prefix);
  return [];
}

const released = (name: string) =>
  readdirSync(join(SCHEMAS_DIR, 'released', name)).map((f) => f.replace(/\.avsc$/, ''));

describe.each(SCHEMA_NAMES)('schema %s', (name) => {
  const json = JSON.parse(schemaText(name)) as { doc?: string };

  it('parses as Avro', () => {
    expect(avroType(name).typeName).toBe('record');
  });

  it('documents the record and every field', () => {
    expect(json.doc).toBeTruthy();
    const undocumented = fieldsOf(json)
      .filter(({ field }) => !field.doc?.trim())
      .map(({ path }) => path);
    expect(undocumented).toEqual([]);
  });

  it('has at least one released version kept in the repo', () => {
    expect(released(name).length).toBeGreaterThan(0);
  });

  it.each(released(name))('stays BACKWARD compatible with released %s', (version) => {
    expect(backwardIncompatibility(avroType(name), avroType(name, version))).toBeNull();
  });
});

describe('the compatibility check itself', () => {
  const base = JSON.parse(schemaText('exposure')) as { fields: object[] };

  it('rejects a new required field without default', () => {
    const changed = { ...base, fields: [...base.fields, { name: 'newField', type: 'string', doc: 'x' }] };
    const reason = backwardIncompatibility(avro.Type.forSchema(changed as avro.Schema), avroType('exposure'));
    expect(reason).toMatch(/newField/);
  });

  it('accepts a new optional field with a default', () => {
    const changed = {
      ...base,
      fields: [...base.fields, { name: 'newField', type: ['null', 'string'], default: null, doc: 'x' }],
    };
    expect(
      backwardIncompatibility(avro.Type.forSchema(changed as avro.Schema), avroType('exposure')),
    ).toBeNull();
  });
});
