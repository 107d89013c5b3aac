// `make demo`: the platform end to end on the local stack (see README.md).
import { createBigQuery } from '../services/common/bigquery';
import { runDemo } from './demo/run';

const env = process.env;

async function main(): Promise<void> {
  const users = Number(env.DEMO_USERS ?? 5000);
  const dataset = env.BIGQUERY_DATASET ?? 'xp';
  const registryUrl = env.XP_REGISTRY_URL ?? 'http://127.0.0.1:7070';
  const collectorUrl = env.XP_COLLECTOR_URL ?? 'http://127.0.0.1:7071';
  const step = (m: string) => console.log(`  · ${m}`);
  console.log(`xp demo: ${users} simulated users, checkout button blue vs green (true lift +20%)\n`);
  const result = await runDemo({
    registryUrl,
    collectorUrl,
    adminToken: env.REGISTRY_BOOTSTRAP_ADMIN_TOKEN ?? 'local-dev-admin-token-change-me',
    writeKey: env.XP_WRITE_KEY ?? 'local-dev-key',
    bigquery: createBigQuery({
      projectId: env.BIGQUERY_PROJECT ?? 'xp-local',
      location: env.BIGQUERY_LOCATION ?? 'US',
      apiEndpoint: env.BIGQUERY_API_ENDPOINT ?? 'http://127.0.0.1:9050',
    }),
    dataset,
    users,
    baseRate: 0.1,
    trueLift: 0.2,
    seed: Number(env.DEMO_SEED ?? Date.now() % 100000),
    timeoutMs: Number(env.DEMO_TIMEOUT_S ?? 300) * 1000,
    progress: step,
  });

  console.log(
    `\nexperiment ${result.experimentKey}: ${result.accepted} events accepted ` +
      `(${result.duplicates} duplicate deliveries, ${result.lateUsers} late users), ` +
      `all in BigQuery ${result.secondsToBigQuery.toFixed(1)} s after the last was accepted\n`,
  );
  const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
  console.log('  variant   exposed units   converted   conversion rate   lift vs blue   z');
  for (const v of result.variants) {
    console.log(
      `  ${v.variant.padEnd(9)} ${String(v.exposed).padStart(13)}   ${String(v.converted).padStart(9)}   ` +
        `${pct(v.conversionRate).padStart(15)}   ` +
        (v.variant === result.variants[0]!.variant
          ? '  (baseline)'
          : `${(v.lift === null ? '' : pct(v.lift)).padStart(12)}   ${v.z === null ? '' : v.z.toFixed(2)}`),
    );
  }
  console.log(`
Where to look next:
  BigQuery (emulator at ${env.BIGQUERY_API_ENDPOINT ?? 'http://127.0.0.1:9050'}), dataset ${dataset}:
    SELECT * FROM ${dataset}.experiment_results WHERE experiment_key = '${result.experimentKey}'
  The experiment's log:   GET  ${registryUrl}/v1/experiments/${result.experimentKey}/log
  Its brief (Markdown):   GET  ${registryUrl}/v1/experiments/${result.experimentKey}/brief
  API docs:               ${registryUrl}/docs
  Metrics:                ${collectorUrl}/metrics (collector), :7072 (enricher), :7073 (sink)
  Guides:                 docs/analysts.md, docs/producers.md, docs/registry.md`);
}

main().catch((err) => {
  console.error(`demo failed: ${(err as Error).message}`);
  process.exit(1);
});
