// Exactly once into BigQuery under every failure the sink must survive, at the scale `make
// test` runs; test/chaos/sink runs the same scenarios bigger. The sink runs as a child process
// from dist/; each scenario asserts COUNT(*) = COUNT(DISTINCT row_id) = records produced, per table.
import { buildSink } from './helpers';
import {
  crashScenario,
  emulatorRestartScenario,
  exactlyOnce,
  killScenario,
  outageScenario,
  rebalanceScenario,
  type Scale,
} from './scenarios';

const scale: Scale = {
  rawEvents: 1500,
  exposures: 500,
  aggregates: 100,
  garbage: 20,
  chunk: 100,
  pauseMs: 300,
};

describe('sink: exactly once (child process)', () => {
  beforeAll(() => buildSink(), 180_000);

  it('loads every record exactly once although the sink is killed with SIGKILL at random moments', async () => {
    const outcome = await killScenario(scale, 3);
    expect(outcome.counts).toEqual(exactlyOnce(outcome.expected));
    expect(outcome.exitCode).toBe(0); // graceful SIGTERM at the end
  }, 300_000);

  // The moments that matter, each hit exactly: before an append, between an append and its
  // acknowledgement, between acknowledgement and the Kafka commit, and during recovery.
  it.each([
    ['before an append', [{ failpoint: 'before-append:4' }, { failpoint: 'before-append:2' }]],
    [
      'between an append and its acknowledgement',
      [{ failpoint: 'after-send:4' }, { failpoint: 'after-send:3' }],
    ],
    [
      'between acknowledgement and the Kafka commit',
      [{ failpoint: 'after-ack:3' }, { failpoint: 'after-ack:5' }],
    ],
    ['during recovery', [{ killAfterMs: 4000 }, { failpoint: 'recovery:2' }, { failpoint: 'recovery:2' }]],
  ])(
    'loads every record exactly once when killed %s',
    async (_moment, steps) => {
      const outcome = await crashScenario(scale, steps);
      expect(outcome.crashed).toEqual(steps.map(() => true));
      expect(outcome.counts).toEqual(exactlyOnce(outcome.expected));
      expect(outcome.exitCode).toBe(0);
    },
    300_000,
  );

  it('loses and duplicates nothing across a rebalance and a frozen (zombie) instance', async () => {
    const outcome = await rebalanceScenario(scale);
    expect(outcome.counts).toEqual(exactlyOnce(outcome.expected));
    expect(outcome.exitCode).toBe(0);
  }, 300_000);

  it('loses and duplicates nothing, and does not crash, while BigQuery (REST and gRPC) is unreachable', async () => {
    const outcome = await outageScenario(scale, 1, 8000);
    expect(outcome.counts).toEqual(exactlyOnce(outcome.expected));
    expect(outcome.sawNotReady).toBe(true);
    expect(outcome.exitCode).toBe(0);
  }, 300_000);

  it('recovers from an emulator restart (write streams forgotten) from the rows the tables hold', async () => {
    const outcome = await emulatorRestartScenario(scale, 1);
    expect(outcome.counts).toEqual(exactlyOnce(outcome.expected));
    expect(outcome.streamsLost).toBeGreaterThan(0);
    expect(outcome.exitCode).toBe(0);
  }, 300_000);
});
