import { buildSink } from './helpers';
import { exactlyOnce, killScenario, outageScenario, type Scale } from './scenarios';

// Small scale for `make test`; test/chaos/sink runs the same scenarios bigger.
const scale: Scale = {
  rawEvents: 1500,
  exposures: 500,
  aggregates: 100,
  garbage: 20,
  chunk: 100,
  pauseMs: 300,
};

describe('sink: effectively once (child process)', () => {
  beforeAll(() => buildSink(), 180_000);

  it('loads every record exactly once although the sink is killed with SIGKILL mid-stream', async () => {
    const outcome = await killScenario(scale, 3);
    expect(outcome.counts).toEqual(exactlyOnce(outcome.expected));
    expect(outcome.exitCode).toBe(0); // graceful SIGTERM at the end
  }, 300_000);

  it('loses and duplicates nothing, and does not crash, while BigQuery is unreachable for a while', async () => {
    const outcome = await outageScenario(scale, 1, 8000);
    expect(outcome.counts).toEqual(exactlyOnce(outcome.expected));
    expect(outcome.sawNotReady).toBe(true);
    // Not asserted: the client's own retries may absorb a short outage (the flush then just waits).
    expect(outcome.transientErrors).toBeGreaterThanOrEqual(0);
    expect(outcome.exitCode).toBe(0);
  }, 300_000);
});
