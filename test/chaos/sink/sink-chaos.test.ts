// The sink's exactly-once scenarios at a bigger scale than `make test` runs them: more
// records, more SIGKILLs and crash points, longer and repeated outages, two emulator
// restarts. `make test-chaos`.
import { buildSink } from '../../integration/sink/helpers';
import {
  crashScenario,
  emulatorRestartScenario,
  exactlyOnce,
  killScenario,
  outageScenario,
  rebalanceScenario,
  type Scale,
} from '../../integration/sink/scenarios';

const scale: Scale = {
  rawEvents: 12_000,
  exposures: 4000,
  aggregates: 1000,
  garbage: 200,
  chunk: 250,
  pauseMs: 150,
};
const KILLS = Number(process.env.SINK_CHAOS_KILLS ?? 10);

describe('sink chaos: exactly once at scale', () => {
  beforeAll(() => buildSink(), 180_000);

  it(`exactly one row per record after ${KILLS} SIGKILLs at random moments`, async () => {
    const outcome = await killScenario(scale, KILLS, 600_000);
    expect(outcome.counts).toEqual(exactlyOnce(outcome.expected));
    expect(outcome.exitCode).toBe(0);
  }, 1_200_000);

  it('exactly one row per record through a crash at every crash point, twice each', async () => {
    const steps = ['before-append:7', 'after-send:9', 'after-ack:5', 'recovery:2'].flatMap((f) => [
      { failpoint: f },
      { killAfterMs: 3000 },
    ]);
    const outcome = await crashScenario(scale, steps, 600_000);
    expect(outcome.crashed).toEqual(steps.map(() => true));
    expect(outcome.counts).toEqual(exactlyOnce(outcome.expected));
  }, 1_200_000);

  it('exactly one row per record across a rebalance with a frozen zombie', async () => {
    const outcome = await rebalanceScenario(scale, 600_000);
    expect(outcome.counts).toEqual(exactlyOnce(outcome.expected));
  }, 1_200_000);

  it('exactly one row per record through three BigQuery outages of 15 s', async () => {
    const outcome = await outageScenario(scale, 3, 15_000, 600_000);
    expect(outcome.counts).toEqual(exactlyOnce(outcome.expected));
    expect(outcome.sawNotReady).toBe(true);
    expect(outcome.exitCode).toBe(0);
  }, 1_200_000);

  it('exactly one row per record through two emulator restarts', async () => {
    const outcome = await emulatorRestartScenario(scale, 2, 600_000);
    expect(outcome.counts).toEqual(exactlyOnce(outcome.expected));
    expect(outcome.streamsLost).toBeGreaterThan(0);
  }, 1_200_000);
});
