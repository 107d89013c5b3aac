import type { Producer, ProducerBatch } from 'kafkajs';
import pino from 'pino';
import {
  KafkaPublisher,
  PublishError,
  type KafkaPublisherOptions,
  type OutRecord,
} from '../../../services/collector/publisher';

/** A producer whose sendBatch calls are held until the test releases or fails them. */
class FakeProducer {
  static made: FakeProducer[] = [];
  batches: ProducerBatch[] = [];
  waiting: { resolve: () => void; reject: (err: Error) => void }[] = [];
  concurrent = 0;
  maxConcurrent = 0;
  autoAck = true;
  disconnected = false;
  constructor() {
    FakeProducer.made.push(this);
  }
  async connect() {}
  async disconnect() {
    this.disconnected = true;
  }
  sendBatch(batch: ProducerBatch) {
    this.batches.push(batch);
    this.maxConcurrent = Math.max(this.maxConcurrent, ++this.concurrent);
    return new Promise<[]>((resolve, reject) => {
      const done = () => {
        this.concurrent--;
        resolve([]);
      };
      const fail = (err: Error) => {
        this.concurrent--;
        reject(err);
      };
      if (this.autoAck) setTimeout(done, 2);
      else this.waiting.push({ resolve: done, reject: fail });
    });
  }
  get sentValues(): string[] {
    return this.batches.flatMap((b) =>
      b.topicMessages!.flatMap((t) => t.messages.map((m) => String(m.value))),
    );
  }
}

let failures: Record<string, number> = {};
function publisher(opts: Partial<KafkaPublisherOptions> = {}) {
  FakeProducer.made = [];
  failures = {};
  const p = new KafkaPublisher({
    createProducer: () => new FakeProducer() as unknown as Producer,
    logger: pino({ level: 'silent' }),
    metrics: {
      flushed: () => undefined,
      failed: (code, n) => void (failures[code] = (failures[code] ?? 0) + n),
    },
    produceTimeoutMs: 1_000,
    maxInFlightRecords: 1_000,
    maxBatchBytes: 1_000_000,
    maxBatchRecords: 10_000,
    ...opts,
  });
  return { p, producer: () => FakeProducer.made.at(-1)! };
}

const records = (prefix: string, n: number, topic = 't'): OutRecord[] =>
  Array.from({ length: n }, (_, i) => ({ topic, key: `k${i}`, value: Buffer.from(`${prefix}${i}`) }));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('KafkaPublisher', () => {
  it('coalesces concurrent requests into one sendBatch, with one send in flight at a time', async () => {
    const { p, producer } = publisher();
    await p.start();
    await Promise.all([
      p.publish(records('a', 3)),
      p.publish(records('b', 2, 'u')),
      p.publish(records('c', 1)),
    ]);
    expect(producer().batches).toHaveLength(1);
    expect(producer().batches[0]!.acks).toBe(-1);
    expect(producer().batches[0]!.topicMessages!.map((t) => [t.topic, t.messages.length])).toEqual([
      ['t', 4],
      ['u', 2],
    ]);
    // Requests arriving during a send go together in the next one, never concurrently.
    const burst = Array.from({ length: 20 }, (_, i) => p.publish(records(`r${i}-`, 5)));
    await Promise.all(burst);
    expect(producer().maxConcurrent).toBe(1);
    expect(producer().sentValues).toHaveLength(106);
    expect(p.inFlight).toBe(0);
  });

  it('splits by the batch bounds and answers a request when all its records are acknowledged', async () => {
    const { p, producer } = publisher({ maxBatchRecords: 4 });
    await p.start();
    await p.publish(records('a', 10));
    expect(producer().batches.map((b) => b.topicMessages![0]!.messages.length)).toEqual([4, 4, 2]);
    const bytes = publisher({ maxBatchBytes: 200 });
    await bytes.p.start();
    await bytes.p.publish(records('x'.repeat(100), 3));
    expect(bytes.producer().batches).toHaveLength(3);
  });

  it('refuses at once beyond the in-flight limit', async () => {
    const { p, producer } = publisher({ maxInFlightRecords: 10 });
    await p.start();
    producer().autoAck = false;
    const first = p.publish(records('a', 8));
    await expect(p.publish(records('b', 3))).rejects.toMatchObject({ code: 'overloaded' });
    expect(p.inFlight).toBe(8);
    expect(failures).toEqual({ overloaded: 3 });
    await sleep(5);
    producer().waiting.shift()!.resolve();
    await first;
    expect(p.inFlight).toBe(0);
  });

  it('times requests out while Kafka hangs, withdrawing what was not sent', async () => {
    const { p, producer } = publisher({ produceTimeoutMs: 50 });
    await p.start();
    producer().autoAck = false;
    const stuck = p.publish(records('a', 2)); // in the hanging send
    await sleep(5);
    const queued = p.publish(records('b', 2)); // waiting behind it
    await expect(stuck).rejects.toMatchObject({ code: 'timeout' });
    await expect(queued).rejects.toBeInstanceOf(PublishError);
    expect(p.ready()).toBe(false); // a send hangs longer than the produce timeout
    expect(p.inFlight).toBe(2); // only the records inside the hanging send remain
    expect(failures).toEqual({ timeout: 4 });
    producer().waiting.shift()!.resolve();
    await sleep(5);
    expect(p.inFlight).toBe(0);
    expect(producer().sentValues).toEqual(['a0', 'a1']); // b was never written
    producer().autoAck = true;
    await p.publish(records('c', 1));
    expect(p.ready()).toBe(true);
  });

  it('fails the batch and replaces the producer when Kafka refuses it', async () => {
    const { p, producer } = publisher();
    await p.start();
    const first = producer();
    first.autoAck = false;
    const refused = p.publish(records('a', 2));
    await sleep(5);
    first.waiting.shift()!.reject(new Error('MESSAGE_TOO_LARGE'));
    await expect(refused).rejects.toMatchObject({ code: 'failed' });
    expect(p.ready()).toBe(false);
    expect(first.disconnected).toBe(true);
    expect(producer()).not.toBe(first);
    await p.publish(records('b', 1));
    expect(producer().sentValues).toEqual(['b0']);
    expect(p.ready()).toBe(true);
  });

  it('refuses new records once closed', async () => {
    const { p, producer } = publisher();
    await p.start();
    await p.close();
    expect(producer().disconnected).toBe(true);
    await expect(p.publish(records('a', 1))).rejects.toMatchObject({ code: 'closed' });
  });
});
