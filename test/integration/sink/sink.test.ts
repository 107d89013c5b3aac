import type { BigQuery, Dataset } from '@google-cloud/bigquery';
import { schemaText } from '../../../services/common/schemas';
import { ensureTables, tableDefs, TABLE_NAMES } from '../../../services/sink/tables';
import { freePort } from '../setup/private-emulator';
import { uniqueName } from '../setup/stack';
import {
  TestProducer,
  bigquery,
  enrichedEvent,
  exposure,
  failedEvent,
  query,
  quietLogger,
  registryChange,
  sinkEnvFor,
  spawnSink,
  trackingEvent,
  uniqueTopics,
  waitFor,
  windowAggregate,
  writeExposures,
  type SinkProcess,
} from './helpers';

describe('sink: Kafka topics into BigQuery tables', () => {
  const datasetId = uniqueName('sink_it');
  const { names, specs } = uniqueTopics('sink-it');
  let bq: BigQuery;
  let producer: TestProducer;
  let sink: SinkProcess;
  let dataset: Dataset;
  let port: number;
  const metrics = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();

  // The sink runs as a child process: the Storage Write API client misbehaves inside
  // Jest's VM (see write-rows.child.js).
  beforeAll(async () => {
    bq = bigquery();
    producer = await TestProducer.create(specs);
    port = await freePort();
    sink = spawnSink(sinkEnvFor(datasetId, names, { SINK_PORT: String(port) }));
    await waitFor(
      'the sink to be ready',
      async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok,
      60_000,
    );
    dataset = bq.dataset(datasetId);
  });
  afterAll(async () => {
    if (process.env.TEST_SINK_OUTPUT) console.log(sink?.output.join(''));
    sink?.child.kill('SIGTERM');
    await sink?.exited;
    await producer?.deleteTopics(Object.values(names));
    await producer?.close();
    await bq?.dataset(datasetId).delete({ force: true });
  });

  it('creates every table partitioned by day on the event time and clustered', async () => {
    for (const name of TABLE_NAMES) {
      const [meta] = await dataset.table(name).getMetadata();
      const def = tableDefs().get(name)!;
      expect(meta.timePartitioning).toMatchObject({ type: 'DAY', field: def.partitionField });
      expect(meta.clustering).toEqual({ fields: def.clustering });
      expect(meta.schema.fields.map((f: { name: string }) => f.name)).toEqual(def.fields.map((f) => f.name));
    }
    const [exp] = await dataset.table('exposures').getMetadata();
    expect(exp.clustering.fields).toEqual(['experiment_key', 'variation_id']);
  });

  it('loads rows of every table with lineage, and sends bad input to failed_events', async () => {
    await producer.send(names.raw, [
      { key: 'user-1', value: trackingEvent(1) },
      { key: 'user-3', value: trackingEvent(3) },
      // The same event again (a producer retry): the sink loads every record once; copies of
      // one messageId are the enricher's to drop (the sink reads its deduplicated topic).
      { key: 'user-3', value: trackingEvent(3) },
      // Properties that are not JSON: the mapping refuses it, failed_events gets it.
      { key: 'user-4', value: trackingEvent(4, { properties: 'not json' }) },
      // Not Avro at all.
      { key: 'user-5', value: Buffer.from('{"event":"raw json"}') },
      // A lone UTF-16 surrogate (escaped in the JSON text; Avro's UTF-8 cannot carry a raw one):
      // BigQuery would refuse the whole append; it goes to failed_events at once, stalls nothing.
      { key: 'user-6', value: trackingEvent(6, { properties: '{"s":"\\ud800x"}' }) },
    ]);
    await producer.send(names.exposures, [
      { key: 'user-1', value: exposure(1, { attributes: '{"country":"FR"}' }) },
      { key: 'user-2', value: exposure(2) },
    ]);
    await producer.send(names.enriched, [{ key: 'user-1', value: enrichedEvent(1) }]);
    await producer.send(names.enriched, [{ key: 'user-2', value: enrichedEvent(2, { late: true }) }]);
    await producer.send(names.aggregates, [
      { key: 'a', value: windowAggregate(1) },
      { key: 'b', value: windowAggregate(2, { metric: null, exposedUnits: 5 }) },
    ]);
    await producer.send(names.failed, [{ key: 'f', value: failedEvent(1) }]);
    await producer.send(names.registry, [
      { key: 'experiment:checkout-button', value: registryChange(1) },
      { key: 'experiment:checkout-button', value: registryChange(2) },
    ]);

    const expected: Record<string, number> = {
      events: 3,
      exposures: 2,
      experiment_events: 2,
      variant_window_metrics: 2,
      experiments: 2,
      failed_events: 4,
    };
    const counts = await waitFor(
      'every table loaded',
      async () => {
        const got: Record<string, number> = {};
        for (const t of Object.keys(expected)) {
          const [r] = await query<{ n: number }>(bq, `SELECT COUNT(*) AS n FROM \`${datasetId}.${t}\``);
          got[t] = Number(r!.n);
        }
        return Object.keys(expected).every((t) => got[t]! >= expected[t]!) ? got : undefined;
      },
      60_000,
    );
    expect(counts).toEqual(expected);

    const [ev] = await query<Record<string, unknown>>(
      bq,
      `SELECT message_id, event, value, kafka_topic, kafka_partition, kafka_offset, row_id,
              JSON_VALUE(properties, '$.value') AS pv, timestamp
       FROM \`${datasetId}.events\` WHERE message_id = 'ev-3' ORDER BY kafka_offset LIMIT 1`,
    );
    expect(ev).toMatchObject({
      message_id: 'ev-3',
      event: 'Order Completed',
      value: 3,
      kafka_topic: names.raw,
      row_id: 'ev-3',
      pv: '3',
    });
    expect(typeof ev!.kafka_offset).toBe('number');

    const [x] = await query<Record<string, unknown>>(
      bq,
      `SELECT JSON_VALUE(attributes, '$.country') AS country, origin FROM \`${datasetId}.exposures\` WHERE message_id = 'exp-1'`,
    );
    expect(x).toEqual({ country: 'FR', origin: 'collector' });

    const late = await query(
      bq,
      `SELECT late, kafka_topic FROM \`${datasetId}.experiment_events\` ORDER BY late`,
    );
    expect(late).toEqual([
      { late: false, kafka_topic: names.enriched },
      { late: true, kafka_topic: names.enriched },
    ]);

    const agg = await query(
      bq,
      `SELECT metric, exposed_units, value_sum_squares, \`partition\` FROM \`${datasetId}.variant_window_metrics\` ORDER BY exposed_units`,
    );
    expect(agg).toEqual([
      { metric: 'Order Completed', exposed_units: 0, value_sum_squares: 50, partition: 1 },
      { metric: null, exposed_units: 5, value_sum_squares: 50, partition: 2 },
    ]);

    const versions = await query(
      bq,
      `SELECT version, action, JSON_VALUE(snapshot, '$.attributionWindowHours') AS window FROM \`${datasetId}.experiments\` ORDER BY version`,
    );
    expect(versions).toEqual([
      { version: 1, action: 'created', window: '72' },
      { version: 2, action: 'updated', window: '72' },
    ]);

    const failed = await query<{ stage: string; code: string; path: string; source_topic: string | null }>(
      bq,
      `SELECT stage, JSON_VALUE(reasons, '$[0].code') AS code, JSON_VALUE(reasons, '$[0].path') AS path, source_topic
       FROM \`${datasetId}.failed_events\` ORDER BY stage, code`,
    );
    expect(failed).toEqual([
      { stage: 'collector', code: 'schema_violation', path: 'event', source_topic: null },
      { stage: 'sink', code: 'not_wire_format', path: '', source_topic: names.raw },
      { stage: 'sink', code: 'unconvertible', path: 'properties', source_topic: names.raw },
      { stage: 'sink', code: 'unconvertible', path: 'properties', source_topic: names.raw },
    ]);
    const [payload] = await query<{ payload: Buffer }>(
      bq,
      `SELECT payload FROM \`${datasetId}.failed_events\` WHERE failure_id LIKE 'sink:%' AND JSON_VALUE(reasons, '$[0].code') = 'not_wire_format'`,
    );
    expect(Buffer.from(payload!.payload).toString()).toBe('{"event":"raw json"}');

    const text = await metrics();
    expect(text).toMatch(/xp_sink_rows_loaded_total\{table="events"[^}]*\} 3/);
    expect(text).toMatch(/xp_sink_rows_failed_total\{code="not_wire_format"[^}]*\} 1/);
  });

  it('adds a new optional Avro field as a NULLABLE column while the old schema keeps loading', async () => {
    const schema = JSON.parse(schemaText('exposure')) as { fields: unknown[] };
    schema.fields.push({ name: 'sdkVersion', type: ['null', 'string'], default: null, doc: 'SDK version.' });
    const newer = tableDefs({ exposure: schema });
    await ensureTables(bq, dataset, newer.values(), quietLogger);
    await ensureTables(bq, dataset, newer.values(), quietLogger); // idempotent
    const [meta] = await dataset.table('exposures').getMetadata();
    expect(meta.schema.fields).toContainEqual(
      expect.objectContaining({ name: 'sdk_version', type: 'STRING', mode: 'NULLABLE' }),
    );

    // A writer with the new schema and one still on the old one, side by side.
    await writeExposures(datasetId, [{ ...exposure(100), sdkVersion: '2.1.0' }], schema);
    await writeExposures(datasetId, [exposure(101)]);
    const rows = await query(
      bq,
      `SELECT message_id, sdk_version FROM \`${datasetId}.exposures\` WHERE message_id IN ('exp-100', 'exp-101') ORDER BY message_id`,
    );
    expect(rows).toEqual([
      { message_id: 'exp-100', sdk_version: '2.1.0' },
      { message_id: 'exp-101', sdk_version: null },
    ]);
  });
});
