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

  const r = result;
  console.log(
    `\nexperiment ${r.experimentKey}: ${r.accepted} events accepted, of which ${r.duplicates} re-sent ` +
      `by a retrying client; every fact in BigQuery ${r.secondsToBigQuery.toFixed(1)} s after the last was accepted`,
  );
  console.log(
    `  enricher: joined ${r.loaded.joined} of ${r.expectedJoined} in-phase events; closed windows ` +
      Object.entries(r.loaded.windows)
        .map(([v, w]) => `${v} ${w.windows} (${w.exposedUnits} units)`)
        .join(', '),
  );
  console.log(
    `  one row per messageId: events ${r.loaded.events.rows} rows / ${r.loaded.events.ids} ids, ` +
      `exposures ${r.loaded.exposures.rows} rows / ${r.loaded.exposures.ids} ids\n`,
  );
  // The results as people read them: the registry's report of the results service's snapshot.
  const res = r.results;
  const pct = (x: number | null, signed = false) =>
    x === null ? '—' : `${signed && x > 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
  console.log(
    `  results: snapshot ${res.snapshotId.slice(0, 12)}… of ${res.snapshotAt} (${r.snapshotRows} rows in ` +
      `experiment_results), ${res.settings.engine}${res.settings.sequential ? ', sequential (always-valid: peeking is safe, intervals are wider)' : ''}, alpha ${res.settings.alpha}\n`,
  );
  for (const m of res.metrics) {
    console.log(`  ${m.id} (${m.aggregation}, ${m.role})`);
    console.log('  variant   units    mean        lift [95% CI]              p-value   chance to win');
    for (const v of m.variants) {
      const c = m.comparisons.find((x) => x.variationId === v.variationId);
      const mean = v.mean === null ? '—' : m.aggregation === 'conversion' ? pct(v.mean) : v.mean.toFixed(2);
      const cells = c
        ? `${pct(c.lift, true).padStart(7)} [${pct(c.liftCiLower, true)}, ${pct(c.liftCiUpper, true)}]`.padEnd(
            27,
          ) +
          `${c.pValue === null ? '—'.padStart(7) : c.pValue.toFixed(3).padStart(7)}   ${pct(c.chanceToWin).padStart(13)}`
        : '(baseline)';
      console.log(
        `  ${v.variationId.padEnd(9)} ${String(v.units).padStart(5)}   ${mean.padStart(7)}     ${cells}`,
      );
    }
    console.log('');
  }
  const srm = res.health.srm;
  console.log(
    `  sample ratio: ${res.variants.map((v) => `${v.variationId} ${v.units}`).join(', ')} against ` +
      `${res.variants.map((v) => v.weight).join('/')}: p = ${srm.pValue.toFixed(3)}, ` +
      `${srm.warning ? 'MISMATCH: do not trust the results' : 'no mismatch'}`,
  );
  console.log(`\n  decision: ${res.decision.sentence}`);
  console.log(
    `  report:   ${registryUrl}/v1/experiments/${r.experimentKey}/results?format=html (and in the console)`,
  );
  console.log(`
Where to look next:
  BigQuery (emulator at ${env.BIGQUERY_API_ENDPOINT ?? 'http://127.0.0.1:9050'}), dataset ${dataset}:
    SELECT * FROM ${dataset}.experiment_metric_summary WHERE experiment_key = '${result.experimentKey}'
  The experiment's log:   GET  ${registryUrl}/v1/experiments/${result.experimentKey}/log
  Its brief (Markdown):   GET  ${registryUrl}/v1/experiments/${result.experimentKey}/brief
  API docs:               ${registryUrl}/docs
  Metrics:                ${collectorUrl}/metrics (collector), :${env.ENRICHER_PORT ?? 7072} (enricher), :${env.SINK_PORT ?? 7073} (sink), :${env.RESULTS_PORT ?? 7074} (results)
  Guides:                 docs/analysts.md, docs/producers.md, docs/registry.md`);
}

main().catch((err) => {
  console.error(`demo failed: ${(err as Error).message}`);
  process.exit(1);
});
