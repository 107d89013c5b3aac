// Where the running experiments come from: the registry (the source of truth, and it knows
// each phase's start) or, without a registry, experiment_settings in BigQuery.
import type { BigQuery } from '@google-cloud/bigquery';
import type { RegistryClient, RunningExperiment } from './registry-client';

export interface ExperimentSource {
  running(): Promise<RunningExperiment[]>;
}

export function registrySource(client: RegistryClient): ExperimentSource {
  return { running: () => client.runningExperiments() };
}

export function bigQuerySource(bq: BigQuery, dataset: string, limit: number): ExperimentSource {
  return {
    async running() {
      const [rows] = await bq.query({
        query: `SELECT experiment_key, current_phase FROM \`${bq.projectId}.${dataset}.experiment_settings\`
                WHERE status = 'running' ORDER BY experiment_key LIMIT @limit`,
        params: { limit },
      });
      return (rows as Array<{ experiment_key: string; current_phase: number | null }>).map((r) => ({
        key: r.experiment_key,
        ...(r.current_phase === null ? {} : { phase: Number(r.current_phase) }),
      }));
    },
  };
}
