// The demo's workload at a small size, through the services `make up` started: registry,
// collector, enricher and sink. BigQuery must hold exactly what the collector accepted.
import { createBigQuery } from '../../../services/common/bigquery';
import { runDemo, type DemoResult } from '../../../scripts/demo/run';
import { stack } from '../setup/stack';

const env = process.env;
const services = {
  registry: `http://127.0.0.1:${env.REGISTRY_PORT ?? 7070}`,
  collector: `http://127.0.0.1:${env.COLLECTOR_PORT ?? 7071}`,
  enricher: `http://127.0.0.1:${env.ENRICHER_PORT ?? 7072}`,
  sink: `http://127.0.0.1:${env.SINK_PORT ?? 7073}`,
};
const bigquery = createBigQuery({
  projectId: stack.bigqueryProject,
  location: 'US',
  apiEndpoint: stack.bigqueryEndpoint,
});
const dataset = env.BIGQUERY_DATASET ?? 'xp';

async function query<T>(sql: string, params: Record<string, unknown>): Promise<T[]> {
  const [job] = await bigquery.createQueryJob({ query: sql, params });
  const [rows] = await job.getQueryResults();
  return rows as T[];
}

describe('end to end: SDK → collector → Kafka → sink → BigQuery views', () => {
  const seed = Date.now() % 1_000_000;
  let result: DemoResult;

  beforeAll(async () => {
    for (const [name, url] of Object.entries(services)) {
      const ok = await fetch(`${url}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (!ok) throw new Error(`${name} is not running at ${url}: start the stack with make up`);
    }
    result = await runDemo({
      registryUrl: services.registry,
      collectorUrl: services.collector,
      adminToken: env.REGISTRY_BOOTSTRAP_ADMIN_TOKEN ?? 'local-dev-admin-token-change-me',
      writeKey: 'local-dev-key',
      bigquery,
      dataset,
      users: 400,
      baseRate: 0.1,
      trueLift: 0.2,
      seed,
      timeoutMs: 120_000,
      progress: () => undefined,
    });
  }, 300_000);

  it('every event the collector accepted was accepted', () => {
    expect(result.accepted).toBe(result.sent);
    expect(result.duplicates).toBeGreaterThan(0);
    expect(result.lateUsers).toBeGreaterThan(0);
  });

  it('the views count exactly the exposed and converted units of each variant', () => {
    expect(result.variants.map((v) => v.variant)).toEqual(['blue', 'green']);
    for (const v of result.variants) {
      expect({ variant: v.variant, exposed: v.exposed, converted: v.converted }).toEqual({
        variant: v.variant,
        exposed: v.expectedExposed,
        converted: v.expectedConverted,
      });
    }
  });

  it('duplicate deliveries are loaded once', async () => {
    const [exposures] = await query<{ rows: number; ids: number }>(
      `SELECT COUNT(*) AS rows, COUNT(DISTINCT message_id) AS ids FROM \`${dataset}.exposures\` WHERE experiment_key = @e`,
      { e: result.experimentKey },
    );
    const exposed = result.variants.reduce((n, v) => n + v.expectedExposed, 0);
    expect(exposures).toEqual({ rows: exposed, ids: exposed });

    const [events] = await query<{ rows: number; ids: number }>(
      `SELECT COUNT(*) AS rows, COUNT(DISTINCT message_id) AS ids FROM \`${dataset}.events\` WHERE STARTS_WITH(unit_id, @prefix)`,
      { prefix: `demo-${seed}-` },
    );
    expect(events).toEqual({ rows: result.sent - result.duplicates, ids: result.sent - result.duplicates });
  });
});
