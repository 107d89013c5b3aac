// The results service end to end, as processes: the compiled results service reads an
// experiment's facts from a private dataset, publishes its snapshot to a private results topic,
// a compiled sink loads that topic into the dataset's experiment_results table, the registry
// records the summary and fires a webhook to a local receiver. Refreshes run on the schedule
// and on demand through the registry's endpoint and the `xp` CLI.
import { execFile } from 'node:child_process';
import type { Server } from 'node:http';
import type { BigQuery, Dataset } from '@google-cloud/bigquery';
import { createBigQuery } from '../../../services/common/bigquery';
import { createKafka } from '../../../services/common/kafka';
import { serviceMain } from '../setup/build';
import { stack, uniqueName } from '../setup/stack';
import {
  spawnService,
  startExperiment,
  startReceiver,
  stop,
  startRegistryForResults,
  waitFor,
  type Received,
  type TestRegistry,
} from './harness';
import { createFactsDataset, seedExperiment, seedFacts, UNITS_PER_VARIANT } from './fixtures';
import pino from 'pino';

const RESULTS_PORT = 7341;
const SINK_PORT = 7342;

function xp(
  url: string,
  token: string,
  ...args: string[]
): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [serviceMain('registry', 'cli.js'), ...args],
      { env: { ...process.env, XP_REGISTRY_URL: url, XP_TOKEN: token } },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, out: stdout, err: stderr }),
    );
  });
}

describe('the results service', () => {
  const key = uniqueName('checkout').replace(/_/g, '-');
  const datasetId = uniqueName('results_service');
  const prefix = uniqueName('test.results');
  const resultsTopic = `${prefix}.results`;
  // Exposures two hours ago; the orders 24 h before them are the CUPED covariates.
  const phaseStart = Date.now() - 2 * 3600_000;
  let bq: BigQuery;
  let dataset: Dataset;
  let registry: TestRegistry;
  let receiver: { url: string; received: Received[]; server: Server };
  let results: ReturnType<typeof spawnService> | undefined;
  let sink: ReturnType<typeof spawnService> | undefined;
  let landedAt = 0;

  const resultRows = async (snapshotId?: string) => {
    const [rows] = await bq.query({
      query: `SELECT * FROM \`${stack.bigqueryProject}.${datasetId}.experiment_results\`
              WHERE experiment_key = @key ${snapshotId ? 'AND snapshot_id = @snapshot' : ''}
              ORDER BY snapshot_at, metric, variation_id`,
      params: { key, ...(snapshotId ? { snapshot: snapshotId } : {}) },
    });
    return rows as Array<Record<string, unknown>>;
  };

  beforeAll(async () => {
    bq = createBigQuery({
      projectId: stack.bigqueryProject,
      location: 'US',
      apiEndpoint: stack.bigqueryEndpoint,
    });
    dataset = await createFactsDataset(bq, datasetId);
    registry = await startRegistryForResults({
      REGISTRY_RESULTS_URL: `http://127.0.0.1:${RESULTS_PORT}`,
      REGISTRY_WEBHOOK_POLL_MS: '100',
    });
    receiver = await startReceiver(0);
    await registry.admin('POST', '/v1/webhooks', {
      name: 'owners',
      url: receiver.url,
      events: ['results.significant', 'results.guardrail_failed'],
    });
    await startExperiment(registry, key);
    await seedExperiment(dataset, key, phaseStart);

    // The sink loads only our results topic (its other inputs are private, empty topics).
    const topicEnv = Object.fromEntries(
      ['EVENTS', 'EXPOSURES', 'ENRICHED', 'AGGREGATES', 'FAILED', 'REGISTRY'].map((t) => [
        `SINK_${t}_TOPIC`,
        `${prefix}.${t.toLowerCase()}`,
      ]),
    );
    sink = spawnService(serviceMain('sink'), {
      ...topicEnv,
      SINK_RESULTS_TOPIC: resultsTopic,
      SINK_PORT: String(SINK_PORT),
      SINK_GROUP_ID: `${prefix}.sink`,
      SINK_CLIENT_ID: `${prefix}.sink`,
      SINK_INSTALL_VIEWS: 'false',
      SINK_BATCH_MAX_DELAY_MS: '200',
      BIGQUERY_DATASET: datasetId,
      BIGQUERY_API_ENDPOINT: stack.bigqueryEndpoint,
      BIGQUERY_GRPC_PORT: String(stack.bigqueryGrpcPort),
      KAFKA_BROKERS: stack.kafkaBrokers.join(','),
      SCHEMA_REGISTRY_URL: stack.schemaRegistryUrl,
      XP_TOPIC_PARTITIONS: '2',
      LOG_LEVEL: 'info',
    });
    results = spawnService(serviceMain('results'), {
      RESULTS_PORT: String(RESULTS_PORT),
      RESULTS_TOPIC: resultsTopic,
      RESULTS_GROUP_ID: `${prefix}.results`,
      RESULTS_REGISTRY_URL: registry.url,
      RESULTS_REGISTRY_TOKEN: registry.serviceToken,
      RESULTS_REFRESH_INTERVAL_MS: '5000',
      RESULTS_CUPED_LOOKBACK_HOURS: '48',
      // The sequential test tuned to this experiment's size (gbstats: the expected sample size).
      RESULTS_SEQUENTIAL_TUNING: '400',
      BIGQUERY_DATASET: datasetId,
      BIGQUERY_API_ENDPOINT: stack.bigqueryEndpoint,
      KAFKA_BROKERS: stack.kafkaBrokers.join(','),
      SCHEMA_REGISTRY_URL: stack.schemaRegistryUrl,
      XP_TOPIC_PARTITIONS: '2',
      LOG_LEVEL: 'info',
    });
    const ready = async (port: number) => {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
      return res?.status === 200;
    };
    await waitFor('the results service to be ready', () => ready(RESULTS_PORT), 60_000).catch((err) => {
      throw new Error(`${(err as Error).message}\n${results?.output()}`);
    });
    await waitFor('the sink to be ready', () => ready(SINK_PORT), 60_000).catch((err) => {
      throw new Error(`${(err as Error).message}\n${sink?.output()}`);
    });
    // The data lands while both run: the schedule must pick it up by itself.
    await seedFacts(dataset, key, phaseStart);
    landedAt = Date.now();
  }, 180_000);

  afterAll(async () => {
    await stop(results?.child);
    await stop(sink?.child);
    await registry?.close();
    receiver?.server.close();
    if (!process.env.KEEP) await dataset?.delete({ force: true }).catch(() => undefined);
    const admin = createKafka({
      clientId: 'results-test',
      brokers: stack.kafkaBrokers,
      logger: pino({ level: 'silent' }),
    }).admin();
    await admin.connect();
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.disconnect();
  }, 60_000);

  it('fills experiment_results within a minute of the data landing, on its schedule', async () => {
    const rows = await waitFor(
      'experiment_results rows',
      async () => {
        const r = await resultRows();
        return r.length > 0 ? r : false;
      },
      60_000,
    ).catch((err) => {
      throw new Error(`${(err as Error).message}\nresults:\n${results?.output()}\nsink:\n${sink?.output()}`);
    });
    const seconds = (Date.now() - landedAt) / 1000;
    console.log(`experiment_results filled ${seconds.toFixed(1)} s after the data landed`);
    expect(seconds).toBeLessThan(60);
    const first = rows.filter((r) => r.snapshot_id === rows[0]!.snapshot_id);
    // Three metrics × two variants, one snapshot.
    expect(first.map((r) => [r.metric, r.variation_id])).toEqual([
      ['Order Completed', 'control'],
      ['Order Completed', 'treatment'],
      ['errors', 'control'],
      ['errors', 'treatment'],
      ['revenue', 'control'],
      ['revenue', 'treatment'],
    ]);
    const treatment = first.find((r) => r.metric === 'Order Completed' && r.variation_id === 'treatment')!;
    expect(treatment).toMatchObject({
      phase: 0,
      metric_role: 'primary',
      baseline_variation_id: 'control',
      is_baseline: false,
      units: UNITS_PER_VARIANT,
      sequential: true,
      cuped: true,
      srm_warning: false,
      multiple_exposure_units: 3,
    });
    expect(Number(treatment.lift)).toBeGreaterThan(1); // 20% → 50%
    expect(Number(treatment.p_value)).toBeLessThan(0.05);
    expect(Number(treatment.chance_to_win)).toBeGreaterThan(0.99);
    expect(Number(treatment.cuped_variance_reduction)).toBeGreaterThan(0);
    expect(treatment.decision_sentence).toMatch(/^treatment raises Order Completed by \d+%/);
    const baseline = first.find((r) => r.metric === 'Order Completed' && r.variation_id === 'control')!;
    expect(baseline.lift).toBeNull();
  }, 90_000);

  it('records the summary in the registry, whose report and webhook follow', async () => {
    const report = await waitFor('the recorded summary', async () => {
      const r = await registry.owner('GET', `/v1/experiments/${key}/results`);
      return r.body.results ? r.body : false;
    });
    // The treatment wins on orders but raises errors, a lower-is-better guardrail: not shipped.
    expect(report.results.decision.verdict).toBe('do-not-ship');
    expect(report.results.decision.sentence).toContain('hurts the guardrail errors');
    expect(report.results.health.multipleExposures).toMatchObject({ units: 3 });
    const hooks = await waitFor('the significance and guardrail webhooks', async () => {
      const all = receiver.received.map((h) => JSON.parse(h.body) as { event: string });
      return all.some((h) => h.event === 'results.guardrail_failed') && all;
    });
    expect(hooks).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          event: 'results.significant',
          experimentKey: key,
          metric: 'Order Completed',
          variationId: 'treatment',
        }),
        expect.objectContaining({ event: 'results.guardrail_failed', experimentKey: key, metric: 'errors' }),
      ]),
    );
  }, 30_000);

  it('refreshes on demand through the registry and the xp CLI, one snapshot per refresh', async () => {
    const answer = await registry.owner('POST', `/v1/experiments/${key}/results/refresh`);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      experimentKey: key,
      status: 'published',
      rows: 6,
      summaryRecorded: true,
    });
    const rows = await waitFor(
      'the on-demand snapshot',
      async () => {
        const r = await resultRows(answer.body.snapshotId);
        return r.length === 6 ? r : false;
      },
      30_000,
    );
    expect(
      new Set(
        rows.map((r) => (r.snapshot_at instanceof Object ? JSON.stringify(r.snapshot_at) : r.snapshot_at)),
      ).size,
    ).toBe(1);

    const cli = await xp(registry.url, registry.serviceToken, 'refresh', key);
    expect(cli.err).toBe('');
    expect(cli.out).toMatch(new RegExp(`^${key} phase 0: 6 result rows`));
    expect(cli.out).toMatch(/treatment raises Order Completed/);
    const report = await xp(registry.url, registry.serviceToken, 'results', key);
    expect(report.out).toContain(`# Results: Checkout ${key}`);

    // Unknown experiments: 404 from the registry, never a query.
    expect((await registry.owner('POST', '/v1/experiments/nope/results/refresh')).status).toBe(404);
  }, 60_000);

  it('reports readiness truthfully and stops on SIGTERM', async () => {
    const ready = (await (await fetch(`http://127.0.0.1:${RESULTS_PORT}/readyz`)).json()) as {
      checks: Array<{ name: string; ready: boolean }>;
    };
    expect(ready.checks.map((c: { name: string; ready: boolean }) => [c.name, c.ready])).toEqual([
      ['kafka-producer', true],
      ['results-group', true],
      ['bigquery-dataset', true],
      ['experiment-source', true],
    ]);
    const metrics = await (await fetch(`http://127.0.0.1:${RESULTS_PORT}/metrics`)).text();
    expect(metrics).toMatch(
      /xp_results_refreshes_total\{trigger="schedule",outcome="published",service="results"\} [1-9]/,
    );
    // The only instance of its group: it owns the one running experiment.
    expect(metrics).toMatch(/xp_results_owned_experiments\{service="results"\} 1\b/);
    expect(await stop(results!.child)).toBe(0);
  }, 30_000);
});
