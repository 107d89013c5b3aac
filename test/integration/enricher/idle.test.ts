// A quiet partition still closes its windows: once both inputs are read to their end and quiet
// for ENRICHER_IDLE_MS, stream time follows the wall clock, the open windows are emitted, and
// the decision is recorded on the decisions topic in the same transaction. Replaying the same
// input with the recorded decision in the pure processor gives the same aggregates.
import type { Exposure, TrackingEvent, WindowAggregate } from '../../../services/common/records';
import { PartitionProcessor, type IdleDecision } from '../../../services/enricher/processor';
import { ExperimentTable } from '../../../services/enricher/experiments';
import {
  EnricherProcess,
  TestKafka,
  aggregateKey,
  buildEnricher,
  experimentChange,
  isolatedEnv,
  partitionOf,
  waitFor,
} from './harness';

const WINDOW_MS = 5_000;
const GRACE_MS = 2_000;
const IDLE_MS = 1_000;

describe('enricher idle watermark (child process, real Kafka)', () => {
  it('emits the last windows within window + grace + idle of wall time after traffic stops', async () => {
    const settings = { partitions: 2, windowMs: WINDOW_MS, graceMs: GRACE_MS, reorderMs: 500 };
    const env = {
      ...isolatedEnv('enr.idle', settings),
      ENRICHER_IDLE_MS: String(IDLE_MS),
      ENRICHER_IDLE_ADVANCE: 'true',
    };
    const tk = new TestKafka(env);
    const proc = new EnricherProcess(buildEnricher(), env);
    try {
      await tk.setup();
      const change = experimentChange('exp-a', 1); // running since an hour before T0
      const snapshot = JSON.parse(change.snapshot!) as { phases: Array<{ startedAt: string }> };
      snapshot.phases[0]!.startedAt = new Date(Date.now() - 3_600_000).toISOString();
      await tk.produceRegistry([{ ...change, snapshot: JSON.stringify(snapshot) }]);
      const aggregates = await tk.collect<WindowAggregate>(tk.names.aggregates);
      const decisions = await rawValues(tk, tk.names.decisions);
      proc.start();

      await waitFor(() => proc.assignments.length > 0, 60_000, 'the enricher to join its group');
      // Traffic at the current time, on one partition, then silence.
      const now = Date.now();
      const unit = 'quiet-unit';
      const p = partitionOf(unit, settings.partitions);
      const exposure: Exposure = {
        messageId: 'x-1',
        unitId: unit,
        experimentKey: 'exp-a',
        variationId: 'A',
        timestamp: now,
        receivedAt: now,
        origin: 'kafka',
        attributes: null,
      };
      const purchase = (id: string, at: number): TrackingEvent => ({
        messageId: id,
        type: 'track',
        event: 'purchase',
        userId: unit,
        anonymousId: null,
        unitId: unit,
        timestamp: at,
        originalTimestamp: null,
        sentAt: null,
        receivedAt: at,
        value: 3,
        properties: '{"value":3}',
        traits: null,
        context: '{}',
        sourceId: null,
      });
      const events = [purchase('e-1', now + 10), purchase('e-2', now + 20), { ...purchase('e-1', now + 50) }];
      const empty = () => Array.from({ length: settings.partitions }, () => []);
      const workload = { events: empty(), exposures: empty(), experiments: ['exp-a'], count: 3 };
      (workload.events[p] as TrackingEvent[]).push(...events);
      (workload.exposures[p] as Exposure[]).push(exposure);
      await tk.produceWorkload(workload);
      const lastSent = Date.now();

      await waitFor(() => aggregates.records.length >= 2, 60_000, 'the quiet windows to close');
      const waited = Date.now() - now;
      // The traffic's window ends at most WINDOW_MS after it; then grace, the idle timeout after
      // the last record, a tick (IDLE_MS / 4) and one transaction. 2 s of slack for a busy machine.
      expect(waited).toBeLessThan(Math.max(WINDOW_MS + GRACE_MS, lastSent - now + IDLE_MS) + IDLE_MS + 2_000);
      expect(aggregates.records.map((a) => [a.metric, a.events, a.valueSum, a.exposedUnits])).toEqual([
        ['purchase', 2, 6, 0], // the copy of e-1 is not counted
        [null, 0, 0, 1],
      ]);
      await waitFor(() => decisions.length >= 1, 10_000, 'the recorded decision');
      const decision = JSON.parse(decisions[0]!) as IdleDecision;
      expect(decision).toMatchObject({ partition: p, eventsNext: 3, exposuresNext: 1 });

      // One clean run of the same input with the same recorded decision: the same aggregates.
      const table = new ExperimentTable();
      table.apply({ ...change, snapshot: JSON.stringify(snapshot) });
      const replay = new PartitionProcessor(
        {
          partition: p,
          windows: { sizeMs: WINDOW_MS, graceMs: GRACE_MS },
          reorderMs: 500,
          dedupeHorizonMs: 24 * 3_600_000,
          topics: { events: tk.names.raw, exposures: tk.names.exposures },
        },
        table,
      );
      events.forEach((value, offset) => replay.pushEvent({ offset, value }));
      replay.pushExposure({ offset: 0, value: exposure });
      replay.run({ events: true, exposures: true });
      expect(replay.meta).toMatchObject({
        eventsNext: decision.eventsNext,
        exposuresNext: decision.exposuresNext,
      });
      expect(replay.advanceIdle(decision.streamTime)).toEqual(decision);
      const replayed = replay
        .drain()
        .outputs.flatMap((o) => (o.kind === 'aggregate' ? [aggregateKey(o.value)] : []));
      expect(replayed.sort()).toEqual(aggregates.records.map(aggregateKey).sort());
      console.log(`idle watermark: last window emitted ${waited} ms after the traffic's event time`);
    } finally {
      await proc.stop();
      await tk.close();
    }
  }, 120_000);
});

/** Collects a JSON topic's raw values (the decisions topic has no Avro schema). */
async function rawValues(tk: TestKafka, topic: string): Promise<string[]> {
  const values: string[] = [];
  const consumer = tk.kafka.consumer({ groupId: `${topic}.reader`, readUncommitted: false });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      values.push(message.value!.toString());
    },
  });
  tk.onClose(() => consumer.disconnect());
  return values;
}
