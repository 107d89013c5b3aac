import { brokerOutage, expectDurable, kafkaCtl } from '../../integration/collector/outage';
import { startCollector, type Harness } from '../../integration/collector/harness';

// The long version of test/integration/collector/broker-outage.test.ts, with the same
// assertions: more load, a longer outage, the default produce timeout.
const PRODUCE_TIMEOUT_MS = 5_000;

describe('collector through a long broker outage', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startCollector({ produceTimeoutMs: PRODUCE_TIMEOUT_MS, partitions: 6 });
  });
  afterAll(async () => {
    await kafkaCtl('start');
    await h.close();
  });

  it('answers 503 with Retry-After, recovers without a restart, and every 2xx event is in Kafka once', async () => {
    const report = await brokerOutage(h, {
      workers: 16,
      batchSize: 100,
      loadBeforeMs: 10_000,
      outageMs: 20_000,
      recoveryTimeoutMs: 60_000,
      loadAfterMs: 10_000,
    });
    console.log(
      `long broker outage: ${report.acked.length} events acknowledged, statuses ${JSON.stringify(report.statuses)}, ` +
        `slowest answer ${report.slowestMs} ms, recovered ${report.recoveredMs} ms after the broker was back`,
    );
    expectDurable(report, PRODUCE_TIMEOUT_MS);
    expect(h.publisher.inFlight).toBe(0);
  }, 300_000);
});
