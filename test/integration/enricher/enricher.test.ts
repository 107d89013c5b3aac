// The enricher as a child process against the real Kafka and schema registry: a small
// end-to-end run with poison records, then exactly-once under kill -9, then scale-out with
// rebalances. Each test uses its own topics and consumer group.
import {
  EnricherProcess,
  SETTINGS,
  buildEnricher,
  actualOutputs,
  runEnricherScenario,
  waitFor,
  type ScenarioOptions,
} from './harness';

let main: string;
beforeAll(() => {
  main = buildEnricher();
}, 180_000);
const runScenario = (opts: Omit<ScenarioOptions, 'main'>) => runEnricherScenario({ ...opts, main });

describe('enricher (child process, real Kafka)', () => {
  it('joins, windows and routes poison records to failed events without stalling', async () => {
    const r = await runScenario({
      name: 'enr.e2e',
      events: 4_000,
      poison: 500,
      instances: 1,
      timeoutMs: 90_000,
    });
    expect(r.expected.enriched.length).toBeGreaterThan(1_000);
    expect(r.expected.late.length).toBeGreaterThan(0);
    expect(r.enriched.some((e) => e.multipleVariants)).toBe(true);
    expect(actualOutputs(r)).toEqual(r.expected);
    const poison = r.workload.events.flat().filter((e) => e === null).length;
    expect(r.failed).toHaveLength(poison);
    expect(new Set(r.failed.map((f) => f.reasons[0]!.code))).toEqual(
      new Set(['not_wire_format', 'unknown_schema']),
    );
    expect(r.failed.every((f) => f.stage === 'enricher' && f.sourceOffset !== null)).toBe(true);
    // A graceful stop finishes in-flight work and exits 0.
    await r.procs[0]!.stop('SIGTERM');
    expect(r.procs[0]!.exits).toEqual([0]);
  });

  it('produces exactly the clean-run outputs after kill -9 at random moments', async () => {
    const kills: number[] = [];
    const r = await runScenario({
      name: 'enr.eos',
      events: 30_000,
      poison: 5_000,
      instances: 1,
      // Input keeps arriving while the enricher runs, so every kill lands mid-stream.
      slices: 20,
      timeoutMs: 240_000,
      disturb: async ([proc], _start, progress) => {
        for (const threshold of [0.1, 0.3, 0.5]) {
          // Mid-stream: once some output is committed, after a random extra delay.
          await waitFor(() => progress() >= threshold, 120_000, `progress ${threshold}`);
          const wait = Math.floor(Math.random() * 300);
          await new Promise((res) => setTimeout(res, wait));
          kills.push(progress());
          proc!.kill9();
          await new Promise((res) => setTimeout(res, 300));
          proc!.start();
        }
      },
    });
    expect(r.procs[0]!.exits.filter((e) => e === 'SIGKILL')).toHaveLength(3);
    // Every kill hit a run in progress (the progress fractions at the kills, for the record).
    expect(kills.filter((k) => !(k > 0 && k < 1))).toEqual([]);
    expect(actualOutputs(r)).toEqual(r.expected);
  }, 300_000);

  it('splits partitions between two instances and loses or duplicates nothing across rebalances', async () => {
    let progressAtSplit = 1;
    const r = await runScenario({
      name: 'enr.scale',
      events: 30_000,
      slices: 30,
      instances: 2,
      timeoutMs: 240_000,
      disturb: async (procs, start, progress) => {
        const [a, b] = procs as [EnricherProcess, EnricherProcess];
        await waitFor(() => progress() >= 0.1, 120_000, 'progress');
        start(1); // rebalance: the second instance takes over some partitions mid-run
        await waitFor(() => b.assignments.length > 0, 60_000, 'the second instance to join');
        progressAtSplit = progress();
        await waitFor(() => progress() >= Math.min(0.6, progressAtSplit + 0.1), 120_000, 'progress');
        await a.stop('SIGTERM'); // rebalance: everything moves to the second
        await waitFor(() => b.assignments.length > 1, 60_000, 'the second instance to take over');
        a.start(); // and back to two
      },
    });
    const [a, b] = r.procs.map((p) => p.assignments) as [number[][], number[][]];
    // The two instances split the partitions while work was left, and had disjoint shares.
    expect(progressAtSplit).toBeLessThan(1);
    expect(b[0]!.length).toBeGreaterThan(0);
    expect(b[0]!.length).toBeLessThan(SETTINGS.partitions);
    expect(a[1]!.filter((p) => b[0]!.includes(p))).toEqual([]);
    expect(actualOutputs(r)).toEqual(r.expected);
  }, 300_000);
});
