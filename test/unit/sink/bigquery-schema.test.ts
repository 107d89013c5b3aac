import {
  ConversionError,
  MappingError,
  bigQueryFields,
  recordShape,
  snakeCase,
  toBigQueryRow,
} from '../../../services/sink/bigquery-schema';
import { avroType, schemaText } from '../../../services/common/schemas';

const schema = (fields: unknown[]) => ({ type: 'record', name: 'R', namespace: 'io.t', doc: 'd', fields });

describe('Avro -> BigQuery mapping', () => {
  it('names columns in snake_case', () => {
    expect(snakeCase('messageId')).toBe('message_id');
    expect(snakeCase('valueSumSquares')).toBe('value_sum_squares');
    expect(snakeCase('userID')).toBe('user_id');
    expect(snakeCase('HTTPStatus')).toBe('http_status');
    expect(snakeCase('partition')).toBe('partition');
  });

  it('maps every documented type', () => {
    const fields = bigQueryFields(
      schema([
        { name: 's', type: 'string', doc: 'a string' },
        { name: 'j', type: 'string', 'xp.bigquery': 'JSON' },
        { name: 'nj', type: ['null', 'string'], 'xp.bigquery': 'JSON' },
        { name: 'l', type: 'long' },
        { name: 'i', type: 'int' },
        { name: 'd', type: 'double' },
        { name: 'f', type: 'float' },
        { name: 'b', type: 'boolean' },
        { name: 'by', type: 'bytes' },
        { name: 'ts', type: { type: 'long', logicalType: 'timestamp-millis' } },
        { name: 'nts', type: ['null', { type: 'long', logicalType: 'timestamp-millis' }] },
        { name: 'e', type: { type: 'enum', name: 'E', symbols: ['a', 'b'] } },
        { name: 'e2', type: 'E' },
        { name: 'arr', type: { type: 'array', items: 'string' } },
        {
          name: 'recs',
          type: {
            type: 'array',
            items: { type: 'record', name: 'Sub', fields: [{ name: 'subField', type: 'int' }] },
          },
        },
        { name: 'm', type: { type: 'map', values: 'string' } },
      ]),
    );
    expect(fields.map((f) => [f.name, f.type, f.mode])).toEqual([
      ['s', 'STRING', 'REQUIRED'],
      ['j', 'JSON', 'REQUIRED'],
      ['nj', 'JSON', 'NULLABLE'],
      ['l', 'INT64', 'REQUIRED'],
      ['i', 'INT64', 'REQUIRED'],
      ['d', 'FLOAT64', 'REQUIRED'],
      ['f', 'FLOAT64', 'REQUIRED'],
      ['b', 'BOOL', 'REQUIRED'],
      ['by', 'BYTES', 'REQUIRED'],
      ['ts', 'TIMESTAMP', 'REQUIRED'],
      ['nts', 'TIMESTAMP', 'NULLABLE'],
      ['e', 'STRING', 'REQUIRED'],
      ['e2', 'STRING', 'REQUIRED'],
      ['arr', 'STRING', 'REPEATED'],
      ['recs', 'JSON', 'REQUIRED'],
      ['m', 'JSON', 'REQUIRED'],
    ]);
    expect(fields[0]!.description).toBe('a string');
    expect(fields.find((f) => f.name === 'recs')!.fields).toBeUndefined(); // a JSON column
  });

  it('refuses what BigQuery cannot hold, at mapping time', () => {
    expect(() => bigQueryFields(schema([{ name: 'u', type: ['string', 'long'] }]))).toThrow(MappingError);
    expect(() =>
      bigQueryFields(schema([{ name: 'u', type: ['null', { type: 'array', items: 'int' }] }])),
    ).toThrow(MappingError);
    expect(() =>
      bigQueryFields(
        schema([{ name: 'u', type: { type: 'array', items: { type: 'array', items: 'int' } } }]),
      ),
    ).toThrow(MappingError);
    expect(() =>
      bigQueryFields(
        schema([
          { name: 'aB', type: 'int' },
          { name: 'a_b', type: 'int' },
        ]),
      ),
    ).toThrow(/two fields/);
    expect(() => bigQueryFields('string')).toThrow(MappingError);
  });

  it('maps every schema in schemas/ (nullable unions become NULLABLE, JSON-marked strings JSON)', () => {
    const fields = bigQueryFields(JSON.parse(schemaText('failed-event')));
    // Nested records are JSON columns (the emulator's Write API refuses RECORD columns).
    expect(fields.find((f) => f.name === 'reasons')).toMatchObject({ type: 'JSON', mode: 'REQUIRED' });
    expect(fields.find((f) => f.name === 'source_offset')).toMatchObject({ type: 'INT64', mode: 'NULLABLE' });
    const events = bigQueryFields(JSON.parse(schemaText('tracking-event')));
    expect(events.find((f) => f.name === 'properties')).toMatchObject({ type: 'JSON', mode: 'REQUIRED' });
    expect(events.find((f) => f.name === 'original_timestamp')).toMatchObject({
      type: 'TIMESTAMP',
      mode: 'NULLABLE',
    });
    expect(events.find((f) => f.name === 'type')).toMatchObject({ type: 'STRING' });
  });

  describe('values', () => {
    const failed = recordShape(JSON.parse(schemaText('failed-event')));
    const value = {
      failureId: 'f1',
      stage: 'collector',
      failedAt: Date.UTC(2026, 0, 2, 3, 4, 5, 6),
      messageId: null,
      payload: Buffer.from('{"x":1}'),
      reasons: [{ code: 'c', path: 'p', message: 'm' }],
      sourceId: null,
      sourceTopic: 't',
      sourcePartition: 3,
      sourceOffset: 42,
    };

    it('converts a decoded record (Date timestamps, Buffer bytes, nested records as JSON text)', () => {
      // The value round-trips through avsc first, as the consumer sees it.
      const t = avroType('failed-event');
      const decoded = t.fromBuffer(t.toBuffer(value)) as Record<string, unknown>;
      expect(toBigQueryRow(failed, decoded)).toEqual({
        failure_id: 'f1',
        stage: 'collector',
        failed_at: new Date('2026-01-02T03:04:05.006Z'),
        message_id: null,
        payload: Buffer.from('{"x":1}'),
        reasons: '[{"code":"c","path":"p","message":"m"}]',
        source_id: null,
        source_topic: 't',
        source_partition: 3,
        source_offset: 42,
      });
    });

    it('rejects values BigQuery would refuse, naming the field', () => {
      const events = recordShape(JSON.parse(schemaText('tracking-event')));
      const ok = {
        messageId: 'm',
        type: 'track',
        event: 'e',
        userId: null,
        anonymousId: 'a',
        unitId: 'a',
        timestamp: 0,
        originalTimestamp: null,
        sentAt: null,
        receivedAt: 0,
        properties: '{}',
        traits: null,
        context: '{}',
        sourceId: null,
      };
      expect(toBigQueryRow(events, ok)).toMatchObject({
        timestamp: new Date(0),
        properties: '{}',
      });
      expect(() => toBigQueryRow(events, { ...ok, properties: 'not json' })).toThrow(ConversionError);
      expect(() => toBigQueryRow(events, { ...ok, properties: 'not json' })).toThrow(
        /^properties: not valid JSON/,
      );
      expect(() => toBigQueryRow(events, { ...ok, timestamp: 253402300800000 })).toThrow(/timestamp/);
      expect(() => toBigQueryRow(events, { ...ok, messageId: undefined })).toThrow(/messageId: required/);
      const agg = recordShape(JSON.parse(schemaText('window-aggregate')));
      expect(() =>
        toBigQueryRow(agg, {
          experimentKey: 'x',
          variationId: 'v',
          metric: null,
          windowStart: 0,
          windowEnd: 1,
          events: 0,
          units: 0,
          valueSum: NaN,
          valueSumSquares: 0,
          exposedUnits: 0,
          partition: 0,
        }),
      ).toThrow(/valueSum: expected a finite number/);
    });
  });
});
