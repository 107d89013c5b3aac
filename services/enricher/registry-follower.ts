// The registry-changes topic followed into the experiment table; unusable changes become
// failed events.

import type { Admin, Kafka, Producer } from 'kafkajs';
import type { Logger } from '../common/logger';
import type { RegistryChange } from '../common/records';
import { DecodeError, type AvroSerde } from '../common/serde';
import type { ExperimentTable } from './experiments';
import { readToEnd } from './read-to-end';

/** Follows the registry-changes topic into the table; resolves once it caught up with the topic's end. */
export async function followRegistry(opts: {
  kafka: Kafka;
  admin: Admin;
  serde: AvroSerde;
  topic: string;
  failedTopic: string;
  table: ExperimentTable;
  groupPrefix: string;
  logger: Logger;
  onChange?: () => void;
}): Promise<{ stop: () => Promise<void> }> {
  const producer: Producer = opts.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const { consumer } = await readToEnd({
    kafka: opts.kafka,
    admin: opts.admin,
    topic: opts.topic,
    partitions: [0],
    groupPrefix: `${opts.groupPrefix}-registry`,
    follow: true,
    logger: opts.logger,
    onRecord: async (partition, _key, value, offset, timestamp) => {
      try {
        const change = await opts.serde.decode<RegistryChange>(opts.topic, value);
        opts.table.apply(change);
        opts.onChange?.();
      } catch (err) {
        if (
          !(err instanceof DecodeError) &&
          !(err instanceof SyntaxError) &&
          !/snapshot/.test((err as Error).message)
        )
          throw err;
        opts.logger.warn(
          { offset, code: (err as DecodeError).code },
          'registry change not usable; sent to failed events',
        );
        await producer.send({
          topic: opts.failedTopic,
          acks: -1,
          messages: [
            {
              key: `enricher:${opts.topic}:${partition}:${offset}`,
              value: opts.serde.encode(opts.failedTopic, {
                failureId: `enricher:${opts.topic}:${partition}:${offset}`,
                stage: 'enricher',
                failedAt: Number(timestamp),
                messageId: null,
                payload: value ?? Buffer.alloc(0),
                reasons: [
                  {
                    code: (err as DecodeError).code ?? 'invalid_snapshot',
                    path: 'snapshot',
                    message: (err as Error).message,
                  },
                ],
                sourceId: null,
                sourceTopic: opts.topic,
                sourcePartition: partition,
                sourceOffset: Number(offset),
              }),
            },
          ],
        });
      }
    },
  });
  return {
    stop: async () => {
      await consumer?.disconnect();
      await producer.disconnect();
    },
  };
}
