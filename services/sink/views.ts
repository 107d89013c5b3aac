// Installs the analysts' views: every infra/bigquery/NN_<view>.sql becomes the view
// <view> of the sink's dataset (CREATE OR REPLACE, in file order, so a view may use the
// ones before it). In the files, `${dataset}` stands for `project.dataset`.

import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { BigQuery } from '@google-cloud/bigquery';
import { runQuery } from './bigquery-jobs';

/** infra/bigquery at the repository root, found from source and from dist/ alike. */
export function viewsDir(from = __dirname): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    const candidate = join(dir, 'infra', 'bigquery');
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`infra/bigquery not found above ${from}`);
}

export interface ViewSql {
  name: string;
  sql: string;
}

/** The views in `dir`, in install order, with the placeholder replaced. */
export function viewDefinitions(projectId: string, datasetId: string, dir = viewsDir()): ViewSql[] {
  return readdirSync(dir)
    .filter((f) => /^\d+_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => ({
      name: f.replace(/^\d+_/, '').replace(/\.sql$/, ''),
      sql: readFileSync(join(dir, f), 'utf8').replaceAll('${dataset}', `${projectId}.${datasetId}`),
    }));
}

/** Views of earlier versions, dropped at install: their logic moved (attribution to the enricher, statistics to the results service). */
const RETIRED_VIEWS = [
  'experiment_unit_metric_days',
  'experiment_metric_daily_cumulative',
  'experiment_results',
];

/**
 * Drops the retired views (before the tables are ensured: experiment_results, once a view, is
 * now the results service's table).
 */
export async function dropRetiredViews(bq: BigQuery, projectId: string, datasetId: string): Promise<void> {
  for (const name of RETIRED_VIEWS) {
    const table = bq.dataset(datasetId, { projectId }).table(name);
    const [exists] = await table.exists();
    // DROP VIEW, not tables.delete: the emulator deletes with DROP TABLE, which a view refuses.
    if (exists && (await table.getMetadata())[0].type === 'VIEW') {
      await runQuery(bq, `DROP VIEW \`${projectId}.${datasetId}.${name}\``);
    }
  }
}

/** Creates or replaces every view; returns their names. */
export async function installViews(
  bq: BigQuery,
  projectId: string,
  datasetId: string,
  dir?: string,
): Promise<string[]> {
  const views = viewDefinitions(projectId, datasetId, dir);
  for (const v of views) {
    await runQuery(bq, `CREATE OR REPLACE VIEW \`${projectId}.${datasetId}.${v.name}\` AS\n${v.sql}`);
  }
  return views.map((v) => v.name);
}
