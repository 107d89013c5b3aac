// The partition an experiment belongs to must be the one its snapshots are produced to: the
// producer's default partitioner (Java-compatible murmur2), which kafkajs uses for keyed records.
import { Partitioners } from 'kafkajs';
import { partitionOf } from '../../../services/results/ownership';

describe('partitionOf', () => {
  it('matches the default partitioner for keyed records, stays in range and spreads keys', () => {
    const producer = Partitioners.DefaultPartitioner();
    const meta = (n: number) =>
      Array.from({ length: n }, (_, partitionId) => ({
        partitionErrorCode: 0,
        partitionId,
        // Leaders missing on some partitions must not move keyed records (murmur2 % count).
        leader: partitionId % 2 === 0 ? 0 : -1,
        replicas: [0],
        isr: [0],
      }));
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const key = `checkout-${i}`;
      const p = partitionOf(key, 6);
      expect(p).toBe(producer({ topic: 't', partitionMetadata: meta(6), message: { key, value: 'x' } }));
      expect(p).toBe(partitionOf(key, 6));
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(6);
      seen.add(p);
    }
    expect(seen.size).toBe(6);
  });

  it('is Kafka’s murmur2: the Java client’s test vectors land on the same partitions', () => {
    // Utils.murmur2 values from Apache Kafka's UtilsTest; the partition is toPositive(h) % count.
    const vectors: Record<string, number> = {
      '21': -973932308,
      foobar: -790332482,
      'a-little-bit-long-string': -985981536,
      'a-little-bit-longer-string': -1486304829,
      lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8: -58897971,
      abc: 479470107,
    };
    for (const [key, hash] of Object.entries(vectors)) {
      expect(partitionOf(key, 1000)).toBe((hash & 0x7fffffff) % 1000);
    }
  });
});
