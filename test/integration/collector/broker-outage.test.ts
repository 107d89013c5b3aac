import { brokerOutage, expectDurable, kafkaCtl } from './outage';
import { startCollector, type Harness } from './harness';

// Durability at small scale (the long run is test/chaos/collector): the broker stops in the
// middle of a steady load and starts again. Stopping the shared local broker disturbs other
// clients for a few seconds; it is always started again.
const PRODUCE_TIMEOUT_MS = 2_000;

describe('collector when the broker goes away', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startCollector({ produceTimeoutMs: PRODUCE_TIMEOUT_MS });
  });
  afterAll(async () => {
    await kafkaCtl('start');
    await h.close();
  });

  it('answers 503 with Retry-After, recovers without a restart, and every 2xx event is in Kafka once', async () => {
    const report = await brokerOutage(h, {
      workers: 4,
      batchSize: 20,
      loadBeforeMs: 1_500,
      outageMs: 5_000,
      recoveryTimeoutMs: 45_000,
      loadAfterMs: 1_500,
    });
    console.log(
      `broker outage: ${report.acked.length} events acknowledged, statuses ${JSON.stringify(report.statuses)}, ` +
        `slowest answer ${report.slowestMs} ms, recovered ${report.recoveredMs} ms after the broker was back`,
    );
    expectDurable(report, PRODUCE_TIMEOUT_MS);
    expect(h.publisher.inFlight).toBe(0);
  });
});
