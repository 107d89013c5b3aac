// Reads a topic's partitions from the beginning to their end offsets: how a task restores its
// changelog and how the registry table is loaded (then followed).

import { randomUUID } from 'node:crypto';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import type { Logger } from '../common/logger';

/**
 * Reads partitions of a topic from the beginning up to their end offsets as of the call
 * (read_committed), through a throwaway consumer group (kafkajs has no manual assignment).
 * `onRecord` sees every record of the wanted partitions in offset order.
 */
export async function readToEnd(opts: {
  kafka: Kafka;
  admin: Admin;
  topic: string;
  partitions: number[];
  groupPrefix: string;
  onRecord: (
    partition: number,
    key: Buffer | null,
    value: Buffer | null,
    offset: string,
    timestamp: string,
  ) => Promise<void> | void;
  /** Keep consuming after the end was reached (a followed table); default false. */
  follow?: boolean;
  logger: Logger;
  timeoutMs?: number;
}): Promise<{ consumer: Consumer | undefined }> {
  const offsets = await opts.admin.fetchTopicOffsets(opts.topic);
  const end = new Map<number, number>();
  for (const o of offsets) {
    if (opts.partitions.includes(o.partition) && Number(o.high) > Number(o.low))
      end.set(o.partition, Number(o.high));
  }
  if (end.size === 0 && !opts.follow) return { consumer: undefined };
  const consumer = opts.kafka.consumer({
    groupId: `${opts.groupPrefix}-${randomUUID()}`,
    readUncommitted: false,
    maxBytesPerPartition: 4 * 1024 * 1024,
    sessionTimeout: 30_000,
  });
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const progress = (partition: number, next: number) => {
    const target = end.get(partition);
    if (target !== undefined && next >= target) end.delete(partition);
    if (end.size === 0) resolveDone();
  };
  if (end.size === 0) resolveDone();
  // END_BATCH_PROCESS also fires for batches that held only transaction markers, which
  // eachBatch never sees; the last record of a transactional partition is such a marker.
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (payload.topic === opts.topic) progress(payload.partition, Number(payload.lastOffset) + 1);
  });
  await consumer.connect();
  await consumer.subscribe({ topic: opts.topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      if (!opts.partitions.includes(batch.partition)) return;
      for (const m of batch.messages) {
        await opts.onRecord(batch.partition, m.key ?? null, m.value, m.offset, m.timestamp);
      }
    },
  });
  const timeoutMs = opts.timeoutMs ?? 120_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      done,
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`reading ${opts.topic} timed out after ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]);
  } catch (err) {
    await consumer.disconnect().catch(() => undefined);
    throw err;
  } finally {
    clearTimeout(timer);
  }
  if (opts.follow) return { consumer };
  await consumer.disconnect();
  return { consumer: undefined };
}
