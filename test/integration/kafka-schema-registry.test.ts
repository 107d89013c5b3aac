import { randomUUID } from 'node:crypto';
import type { Admin, Kafka } from 'kafkajs';
import pino from 'pino';
import { createKafka } from '../../services/common/kafka';
import { AvroSerde, DecodeError } from '../../services/common/serde';
import { TopicMismatchError, ensureTopics, topicSpecs, type TopicSpec } from '../../services/common/topics';
import type { Exposure } from '../../services/common/records';
import { stack, uniqueName } from './setup/stack';

const logger = pino({ level: 'silent' });

describe('Kafka and the schema registry (smoke)', () => {
  let kafka: Kafka;
  let admin: Admin;
  const spec: TopicSpec = {
    name: uniqueName('smoke.exposures'),
    schema: 'exposure',
    partitions: 3,
    config: { 'retention.ms': '3600000' },
  };

  beforeAll(async () => {
    kafka = createKafka({ clientId: 'smoke', brokers: stack.kafkaBrokers, logger });
    admin = kafka.admin();
    await admin.connect();
  });
  afterAll(async () => {
    await admin.deleteTopics({ topics: [spec.name] }).catch(() => undefined);
    await admin.disconnect();
  });

  it('provisions the declared topics idempotently', async () => {
    await ensureTopics(admin, topicSpecs(6));
    await ensureTopics(admin, topicSpecs(6));
    const meta = await admin.fetchTopicMetadata({ topics: ['xp.events.raw.v1', 'xp.exposures.v1'] });
    expect(meta.topics.map((t) => t.partitions.length)).toEqual([6, 6]);
    const configs = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: 2, name: 'xp.registry.changes.v1', configNames: ['cleanup.policy'] }],
    });
    expect(configs.resources[0]!.configEntries[0]!.configValue).toBe('compact');
  });

  it('refuses to repartition an existing topic', async () => {
    await ensureTopics(admin, [spec]);
    await expect(ensureTopics(admin, [{ ...spec, partitions: 4 }])).rejects.toThrow(TopicMismatchError);
  });

  it('round-trips an Avro record through the registry and the broker', async () => {
    await ensureTopics(admin, [spec]);
    const serde = await AvroSerde.create(stack.schemaRegistryUrl, [spec]);
    const exposure: Exposure = {
      messageId: randomUUID(),
      unitId: 'user-1',
      experimentKey: 'checkout-button',
      variationId: 'blue',
      timestamp: Date.now(),
      receivedAt: Date.now(),
      origin: 'collector',
      phase: 2,
      inRunningPhase: true,
      attributes: null,
    };
    expect(serde.validate(spec.name, exposure)).toEqual([]);

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({
      topic: spec.name,
      acks: -1,
      messages: [{ key: exposure.unitId, value: serde.encode(spec.name, exposure) }],
    });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: uniqueName('smoke') });
    await consumer.connect();
    await consumer.subscribe({ topic: spec.name, fromBeginning: true });
    const received = await new Promise<Exposure>((resolve, reject) => {
      consumer
        .run({ eachMessage: async ({ message }) => resolve(await serde.decode(spec.name, message.value)) })
        .catch(reject);
    });
    await consumer.disconnect();
    expect(received).toEqual(exposure);
  });

  it('reports field paths for invalid values and typed errors for undecodable bytes', async () => {
    const serde = await AvroSerde.create(stack.schemaRegistryUrl, [spec]);
    expect(serde.validate(spec.name, { messageId: 1, unitId: 'u' })).toEqual(
      expect.arrayContaining([
        { path: 'messageId', message: 'expected string, got number' },
        { path: 'experimentKey', message: 'expected string, got missing' },
      ]),
    );
    await expect(serde.decode(spec.name, Buffer.from('{"json":true}'))).rejects.toMatchObject({
      code: 'not_wire_format',
    });
    const unknownId = Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0, 1, 2]);
    await expect(serde.decode(spec.name, unknownId)).rejects.toBeInstanceOf(DecodeError);
    await expect(serde.decode(spec.name, unknownId)).rejects.toMatchObject({ code: 'unknown_schema' });
  });
});
