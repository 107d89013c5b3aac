// The demo's workload at a small size, through the services `make up` started: registry,
// collector, enricher and sink. BigQuery must hold each fact once, as the enricher computed it,
// and the results read from those facts must equal the workload's known truth.
import { createBigQuery } from '../../../services/common/bigquery';
import { REVENUE, runDemo, type DemoResult } from '../../../scripts/demo/run';
import { requireServices, services, stack } from '../setup/stack';

const bigquery = createBigQuery({
  projectId: stack.bigqueryProject,
  location: 'US',
  apiEndpoint: stack.bigqueryEndpoint,
});
const dataset = services.dataset;

describe('end to end: SDK → collector → enricher → sink → BigQuery → results', () => {
  const seed = Date.now() % 1_000_000;
  let result: DemoResult;

  beforeAll(async () => {
    await requireServices('registry', 'collector', 'enricher', 'sink');
    result = await runDemo({
      registryUrl: services.registry,
      collectorUrl: services.collector,
      adminToken: services.adminToken,
      writeKey: services.writeKey,
      bigquery,
      dataset,
      users: 400,
      baseRate: 0.1,
      trueLift: 0.2,
      seed,
      // Windows close a window + grace + idle timeout (60 + 30 + 5 s) after the traffic.
      timeoutMs: 240_000,
      progress: () => undefined,
    });
  }, 300_000);

  it('the collector accepted every event, re-sent copies included', () => {
    expect(result.accepted).toBe(result.sent);
    expect(result.duplicates).toBeGreaterThan(0);
  });

  it('the enricher joined exactly the in-phase events and closed a window per variant', () => {
    expect(result.loaded.joined).toBe(result.expectedJoined);
    for (const v of ['blue', 'green']) {
      expect(result.loaded.windows[v]?.windows).toBeGreaterThanOrEqual(1);
      expect(result.loaded.windows[v]?.exposedUnits).toBe(result.expected[v]!.exposed);
    }
  });

  it('events and exposures hold one row per messageId, although some were re-sent with a new sentAt', () => {
    expect(result.loaded.events).toEqual({ rows: result.uniqueEvents, ids: result.uniqueEvents });
    const exposed = Object.values(result.expected).reduce((n, v) => n + v.exposed, 0);
    expect(result.loaded.exposures).toEqual({ rows: exposed, ids: exposed });
  });

  it("the results read from the facts equal the workload's known truth", () => {
    const { facts } = result;
    expect(facts.variants.map((v) => [v.key, v.units, v.excludedUnits])).toEqual(
      ['blue', 'green'].map((v) => [v, result.expected[v]!.exposed, 0]),
    );
    const orders = facts.metrics.find((m) => m.id === 'orders')!;
    expect(orders.convertedUnits).toEqual(['blue', 'green'].map((v) => result.expected[v]!.converted));
    const revenue = facts.metrics.find((m) => m.id === REVENUE)!;
    revenue.sums.forEach((s, i) => {
      expect(s.sum).toBeCloseTo(result.expected[['blue', 'green'][i]!]!.revenue, 6);
    });
  });

  it("the results people read are the results service's snapshot of those facts, also in experiment_results", () => {
    const { results } = result;
    expect(results.variants.map((v) => [v.variationId, v.units])).toEqual(
      ['blue', 'green'].map((v) => [v, result.expected[v]!.exposed]),
    );
    expect(results.metrics.map((m) => [m.id, m.role])).toEqual([
      ['orders', 'primary'],
      [REVENUE, 'secondary'],
    ]);
    const orders = results.metrics[0]!;
    orders.variants.forEach((v) => {
      const truth = result.expected[v.variationId]!;
      expect(v.mean).toBeCloseTo(truth.converted / truth.exposed, 12);
    });
    const green = orders.comparisons.find((c) => c.variationId === 'green')!;
    const [blueRate, greenRate] = orders.variants.map((v) => v.mean!);
    expect(green.lift).toBeCloseTo(greenRate! / blueRate! - 1, 12);
    expect(results.decision.sentence.length).toBeGreaterThan(10);
    expect(result.snapshotRows).toBeGreaterThan(0);
  });
});
