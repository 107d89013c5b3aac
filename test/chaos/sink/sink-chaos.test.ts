// The sink's effectively-once scenarios at a bigger scale than `make test` runs them:
// more records, more SIGKILLs, longer and repeated BigQuery outages. `make test-chaos`.
import { buildSink } from '../../integration/sink/helpers';
import { exactlyOnce, killScenario, outageScenario, type Scale } from '../../integration/sink/scenarios';

const scale: Scale = {
  rawEvents: 12_000,
  exposures: 4000,
  aggregates: 1000,
  garbage: 200,
  chunk: 250,
  pauseMs: 150,
};
const KILLS = Number(process.env.SINK_CHAOS_KILLS ?? 10);

describe('sink chaos: effectively once at scale', () => {
  beforeAll(() => buildSink(), 180_000);

  it(`exactly one row per record after ${KILLS} SIGKILLs at random moments`, async () => {
    const outcome = await killScenario(scale, KILLS, 600_000);
    expect(outcome.counts).toEqual(exactlyOnce(outcome.expected));
    expect(outcome.exitCode).toBe(0);
  }, 1_200_000);

  it('exactly one row per record through three BigQuery outages of 15 s', async () => {
    const outcome = await outageScenario(scale, 3, 15_000, 600_000);
    expect(outcome.counts).toEqual(exactlyOnce(outcome.expected));
    expect(outcome.sawNotReady).toBe(true);
    expect(outcome.exitCode).toBe(0);
  }, 1_200_000);
});
