// Snapshots onto xp.results.v1, the topic the sink loads into experiment_results: the same
// loading path as every other fact table. One send per snapshot, acks from every in-sync
// replica; the idempotent producer makes a retried send land once, and the records' ids make
// a re-delivered snapshot one row per id in BigQuery.
import type { Producer } from 'kafkajs';
import type { AvroSerde } from '../common/serde';
import type { ExperimentResultRecord } from './snapshot';

export class InvalidRecordError extends Error {
  override name = 'InvalidRecordError';
}

export class ResultsPublisher {
  constructor(
    private readonly producer: Producer,
    private readonly serde: AvroSerde,
    private readonly topic: string,
  ) {}

  async publish(records: ExperimentResultRecord[]): Promise<void> {
    if (records.length === 0) return;
    const messages = records.map((r) => {
      const problems = this.serde.validate(this.topic, r);
      if (problems.length > 0) {
        throw new InvalidRecordError(
          `result ${r.experimentKey}/${r.metric}/${r.variationId}: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
        );
      }
      // Keyed by experiment: one experiment's snapshots stay in order on one partition.
      return { key: r.experimentKey, value: this.serde.encode(this.topic, r) };
    });
    await this.producer.send({ topic: this.topic, acks: -1, messages });
  }
}
