// Chaos: the exactly-once proof at scale. 200k events (plus poison records), the
// enricher killed with SIGKILL at six random moments mid-stream, outputs read read_committed
// and compared with the reference computed independently from the input. `make test-chaos`.
import {
  buildEnricher,
  actualOutputs,
  runEnricherScenario,
  waitFor,
} from '../../integration/enricher/harness';

const EVENTS = Number(process.env.ENRICHER_CHAOS_EVENTS ?? 200_000);
const KILLS = Number(process.env.ENRICHER_CHAOS_KILLS ?? 6);

it(
  `enriched events and aggregates equal a clean run after ${KILLS} kill -9 over ${EVENTS} events`,
  async () => {
    const main = buildEnricher();
    const killedAt: number[] = [];
    const r = await runEnricherScenario({
      main,
      name: 'enr.chaos',
      events: EVENTS,
      poison: 10_000,
      instances: 1,
      timeoutMs: 25 * 60_000,
      disturb: async ([proc], _start, progress) => {
        for (let k = 0; k < KILLS; k++) {
          const threshold = (k + 0.5 + Math.random() * 0.4) / (KILLS + 1);
          await waitFor(() => progress() >= threshold, 20 * 60_000, `progress ${threshold}`);
          killedAt.push(progress());
          proc!.kill9();
          await new Promise((res) => setTimeout(res, Math.floor(Math.random() * 2_000)));
          proc!.start();
        }
      },
    });
    console.log(
      `chaos: ${EVENTS} events, ${r.expected.enriched.length} enriched, ${r.expected.aggregates.length} aggregates, ` +
        `${r.expected.late.length} late, kills at progress ${killedAt.map((p) => p.toFixed(2)).join(', ')}`,
    );
    expect(r.procs[0]!.exits.filter((e) => e === 'SIGKILL')).toHaveLength(KILLS);
    expect(killedAt.every((p) => p > 0 && p < 1)).toBe(true);
    expect(actualOutputs(r)).toEqual(r.expected);
  },
  30 * 60_000,
);
