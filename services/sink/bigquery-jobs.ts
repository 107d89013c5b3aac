// Query jobs shared by the tables, the views, recovery's row-id check and the tests.

import type { BigQuery } from '@google-cloud/bigquery';

export interface QueryResult {
  rows: Record<string, unknown>[];
  /** Rows inserted/updated/deleted by a DML statement (MERGE). */
  affectedRows: number;
}

/**
 * Runs a statement and waits for it. createQueryJob + getQueryResults throws when the
 * statement fails; `bq.query()` may answer [] instead on the emulator.
 */
export async function runQuery(
  bq: BigQuery,
  query: string,
  params?: Record<string, unknown>,
): Promise<QueryResult> {
  const [job] = await bq.createQueryJob({ query, ...(params ? { params } : {}) });
  const [rows] = await job.getQueryResults();
  const stats = (job.metadata as { statistics?: { query?: { numDmlAffectedRows?: string } } } | undefined)
    ?.statistics?.query;
  let affected = stats?.numDmlAffectedRows;
  if (affected === undefined) {
    const [meta] = (await job.getMetadata()) as unknown as [
      { statistics?: { query?: { numDmlAffectedRows?: string } } },
    ];
    affected = meta.statistics?.query?.numDmlAffectedRows;
  }
  return { rows: rows as Record<string, unknown>[], affectedRows: Number(affected ?? 0) };
}
