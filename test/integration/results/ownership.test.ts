// Several results instances share the running experiments through a Kafka consumer group
// (services/results/ownership.ts): each experiment is refreshed on the schedule by exactly one
// instance, and when one is killed (-9) the survivor takes its experiments within the session
// timeout. Two compiled instances, a private registry with one running experiment per results
// partition, a private results topic and an empty private dataset (every refresh is no_data,
// which is logged like any other refresh).
import type { Dataset } from '@google-cloud/bigquery';
import { createBigQuery } from '../../../services/common/bigquery';
import { partitionOf } from '../../../services/results/ownership';
import { serviceMain } from '../setup/build';
import { stack, uniqueName } from '../setup/stack';
import { createFactsDataset } from './fixtures';
import {
  spawnService,
  startExperiment,
  startRegistryForResults,
  stop,
  waitFor,
  type TestRegistry,
} from './harness';

const PARTITIONS = 4;
const PORTS = [7343, 7344];
/** Long enough for a few rounds: a refresh is a BigQuery query, seconds on the emulator. */
const WINDOW_MS = 10_000;

describe('results instances share the experiments', () => {
  const prefix = uniqueName('test.ownership');
  const datasetId = uniqueName('results_ownership');
  let registry: TestRegistry;
  let dataset: Dataset;
  let keys: string[];
  let instances: ReturnType<typeof spawnService>[] = [];

  /** Experiments each instance refreshed on its schedule since `since` (its JSON log lines). */
  const refreshedSince = (since: number) =>
    instances.map((i) => {
      const keysSeen = new Set<string>();
      for (const line of i.output().split('\n')) {
        if (!line.startsWith('{')) continue;
        const l = JSON.parse(line) as { msg?: string; time?: number; experiment?: string; trigger?: string };
        if (l.msg === 'experiment refreshed' && l.trigger === 'schedule' && l.time! >= since)
          keysSeen.add(l.experiment!);
      }
      return keysSeen;
    });

  beforeAll(async () => {
    const bq = createBigQuery({
      projectId: stack.bigqueryProject,
      location: 'US',
      apiEndpoint: stack.bigqueryEndpoint,
    });
    dataset = await createFactsDataset(bq, datasetId);
    registry = await startRegistryForResults();
    // One experiment per partition, so that each instance owns at least one.
    const byPartition = new Map<number, string>();
    for (let i = 0; byPartition.size < PARTITIONS; i++) {
      const key = `${prefix.replace(/[._]/g, '-')}-${i}`;
      if (!byPartition.has(partitionOf(key, PARTITIONS))) byPartition.set(partitionOf(key, PARTITIONS), key);
    }
    keys = [...byPartition.values()].sort();
    for (const key of keys) await startExperiment(registry, key);

    instances = PORTS.map((port) =>
      spawnService(serviceMain('results'), {
        RESULTS_PORT: String(port),
        RESULTS_TOPIC: `${prefix}.results`,
        RESULTS_GROUP_ID: `${prefix}.group`,
        RESULTS_SESSION_TIMEOUT_MS: '6000',
        RESULTS_REFRESH_INTERVAL_MS: '1000',
        RESULTS_CONCURRENCY: String(PARTITIONS),
        RESULTS_REGISTRY_URL: registry.url,
        RESULTS_REGISTRY_TOKEN: registry.serviceToken,
        BIGQUERY_DATASET: datasetId,
        BIGQUERY_API_ENDPOINT: stack.bigqueryEndpoint,
        KAFKA_BROKERS: stack.kafkaBrokers.join(','),
        SCHEMA_REGISTRY_URL: stack.schemaRegistryUrl,
        XP_TOPIC_PARTITIONS: String(PARTITIONS),
        LOG_LEVEL: 'info',
      }),
    );
  }, 120_000);

  afterAll(async () => {
    for (const i of instances) await stop(i.child);
    await registry?.close();
    if (!process.env.KEEP) await dataset?.delete({ force: true });
  });

  it('refreshes each running experiment on exactly one instance', async () => {
    // Settled: over a few rounds, the two instances' experiments are disjoint and cover all.
    const settled = await waitFor(
      'two instances sharing the experiments',
      async () => {
        const since = Date.now();
        await new Promise((r) => setTimeout(r, WINDOW_MS));
        const [a, b] = refreshedSince(since);
        const overlap = [...a!].filter((k) => b!.has(k));
        const all = new Set([...a!, ...b!]);
        return a!.size > 0 && b!.size > 0 && overlap.length === 0 && all.size === keys.length && [a!, b!];
      },
      90_000,
    ).catch((err) => {
      throw new Error(
        `${(err as Error).message}\n${instances.map((i) => i.output().slice(-3000)).join('\n---\n')}`,
      );
    });
    expect([...settled[0]!, ...settled[1]!].sort()).toEqual(keys);
  }, 120_000);

  it('moves a killed instance’s experiments to the survivor within the session timeout', async () => {
    const killedAt = Date.now();
    instances[0]!.child.kill('SIGKILL');
    const taken = await waitFor(
      'the survivor refreshing every experiment',
      async () => {
        const since = Date.now();
        await new Promise((r) => setTimeout(r, WINDOW_MS));
        const [, b] = refreshedSince(since);
        return b!.size === keys.length && Date.now() - killedAt;
      },
      60_000,
    );
    // Session timeout (6 s) + a rebalance + a round; the window adds up to 10 s of observing.
    console.log(`survivor refreshed all ${keys.length} experiments ${taken} ms after the kill`);
    expect(taken).toBeLessThan(40_000);
  }, 90_000);
});
