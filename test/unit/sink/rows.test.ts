import { tableDefs, columnDdl, TABLE_NAMES } from '../../../services/sink/tables';
import { sinkFailureRow, toRow } from '../../../services/sink/rows';
import type {
  EnrichedEvent,
  Exposure,
  TrackingEvent,
  WindowAggregate,
} from '../../../services/common/records';

const defs = tableDefs();
const lineage = { topic: 'xp.exposures.v1', partition: 2, offset: '17' };
const now = new Date('2026-03-01T00:00:00Z');

describe('tables and rows', () => {
  it('defines every table with lineage columns, partitioning on the event time and clustering', () => {
    expect([...defs.keys()].sort()).toEqual([...TABLE_NAMES].sort());
    for (const def of defs.values()) {
      const names = def.fields.map((f) => f.name);
      expect(names).toEqual(
        expect.arrayContaining(['row_id', 'kafka_topic', 'kafka_partition', 'kafka_offset']),
      );
      expect(def.fields.find((f) => f.name === def.partitionField)?.type).toBe('TIMESTAMP');
      for (const c of def.clustering) expect(names).toContain(c);
    }
    expect(defs.get('exposures')!.clustering).toEqual(['experiment_key', 'variation_id']);
    expect(defs.get('variant_window_metrics')!.partitionField).toBe('window_start');
  });

  it('converts an exposure with lineage and its event id as row id', () => {
    const exposure: Exposure = {
      messageId: 'm-1',
      unitId: 'u-1',
      experimentKey: 'checkout',
      variationId: 'blue',
      timestamp: Date.UTC(2026, 1, 3),
      receivedAt: Date.UTC(2026, 1, 3, 0, 0, 1),
      origin: 'collector',
      attributes: '{"country":"FR"}',
    };
    const out = toRow(defs.get('exposures')!, exposure as never, lineage, Buffer.from('x'), now);
    if (!('row' in out)) throw new Error('expected a row');
    expect(out.row.rowId).toBe('m-1');
    expect(out.row.json).toEqual({
      message_id: 'm-1',
      unit_id: 'u-1',
      experiment_key: 'checkout',
      variation_id: 'blue',
      timestamp: new Date('2026-02-03T00:00:00.000Z'),
      received_at: new Date('2026-02-03T00:00:01.000Z'),
      origin: 'collector',
      phase: null,
      in_running_phase: null,
      attributes: '{"country":"FR"}',
      row_id: 'm-1',
      kafka_topic: 'xp.exposures.v1',
      kafka_partition: 2,
      kafka_offset: 17,
      loaded_at: new Date('2026-03-01T00:00:00.000Z'),
    });
    // The request-size estimate: twice the Avro value, plus room for column tags and lineage.
    expect(out.row.bytes).toBe(2 * 1 + 256 + 'm-1'.length);
  });

  it('keeps ids deterministic per table', () => {
    const ev: TrackingEvent = {
      messageId: 'e-1',
      type: 'track',
      event: 'Order Completed',
      userId: 'u',
      anonymousId: null,
      unitId: 'u',
      timestamp: 0,
      originalTimestamp: null,
      sentAt: null,
      receivedAt: 0,
      value: 12.5,
      properties: '{"revenue": 12.5}',
      traits: null,
      context: '{}',
      sourceId: 'src',
    };
    const out = toRow(defs.get('events')!, ev as never, lineage, null, now);
    expect('row' in out && out.row.json.value).toBe(12.5);
    const enriched: EnrichedEvent = {
      eventId: 'e-1',
      unitId: 'u',
      event: 'Order Completed',
      value: 12.5,
      timestamp: 0,
      experimentKey: 'checkout',
      variationId: 'blue',
      phase: 1,
      exposedAt: 0,
      multipleVariants: false,
      late: false,
      sourceTopic: 'raw',
      sourcePartition: 0,
      sourceOffset: 5,
    };
    expect(defs.get('experiment_events')!.rowId(enriched as never)).toBe('["e-1","checkout"]');
    const agg: WindowAggregate = {
      experimentKey: 'checkout',
      variationId: 'blue',
      metric: null,
      windowStart: 60000,
      windowEnd: 120000,
      events: 0,
      units: 0,
      valueSum: 0,
      valueSumSquares: 0,
      exposedUnits: 3,
      partition: 4,
    };
    expect(defs.get('variant_window_metrics')!.rowId(agg as never)).toBe('["checkout","blue",null,60000,4]');
  });

  it('returns a failure (not a throw) for a value that cannot be converted', () => {
    const out = toRow(
      defs.get('exposures')!,
      {
        messageId: 'm',
        unitId: 'u',
        experimentKey: 'x',
        variationId: 'v',
        timestamp: 0,
        receivedAt: 0,
        origin: 'kafka',
        attributes: '{bad',
      },
      lineage,
      null,
      now,
    );
    expect(out).toEqual({ failure: expect.objectContaining({ code: 'unconvertible', path: 'attributes' }) });
  });

  it('builds failed_events rows with an id derived from the Kafka position', () => {
    const row = sinkFailureRow(
      lineage,
      Buffer.from([1, 2]),
      [{ code: 'not_wire_format', path: '', message: 'm' }],
      now,
    );
    expect(row.rowId).toBe('sink:xp.exposures.v1:2:17');
    expect(row.table).toBe('failed_events');
    const cols = new Set(defs.get('failed_events')!.fields.map((f) => f.name));
    for (const k of Object.keys(row.json)) expect(cols.has(k)).toBe(true);
    expect(row.json).toMatchObject({
      stage: 'sink',
      payload: Buffer.from([1, 2]),
      source_offset: 17,
      kafka_offset: 17,
    });
  });

  it('writes DDL types for added columns', () => {
    expect(columnDdl({ name: 'a', type: 'STRING', mode: 'NULLABLE' })).toBe('STRING');
    expect(
      columnDdl({
        name: 'r',
        type: 'RECORD',
        mode: 'REPEATED',
        fields: [{ name: 'c', type: 'INT64', mode: 'REQUIRED' }],
      }),
    ).toBe('ARRAY<STRUCT<`c` INT64>>');
  });
});
