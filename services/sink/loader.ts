// Loads one table's batch idempotently: rows go into a fresh staging table (insertAll),
// then one MERGE inserts those whose row_id the target does not have yet, then the staging
// table is dropped. Replaying a batch after a crash re-MERGEs harmlessly, which is what
// makes the sink effectively-once without insertId (ignored by the emulator, best-effort
// on BigQuery) and without load-job ids (not idempotent on the emulator).

import { randomBytes } from 'node:crypto';
import type { BigQuery, Dataset, Table } from '@google-cloud/bigquery';
import type { Logger } from '../common/logger';
import { chunk } from './batcher';
import { backoffMs, classifyError, runQuery, sleep } from './bigquery-jobs';
import type { SinkMetrics } from './metrics';
import type { Failure, Row } from './rows';
import type { TableDef } from './tables';

export interface LoaderOptions {
  bq: BigQuery;
  dataset: Dataset;
  logger: Logger;
  metrics: SinkMetrics;
  /** insertAll request size into the staging table. */
  insertChunkRows: number;
  insertChunkBytes: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** Attempts at one insert request answered 5xx before the rows are bisected. */
  insertAttempts: number;
  /** When true, transient failures stop being retried (shutdown). */
  stopping: () => boolean;
}

export interface LoadResult {
  /** Rows BigQuery holds now (new or already there). */
  loaded: number;
  /** Rows the MERGE inserted (the rest were already there: a replay). */
  inserted: number;
  /** Rows BigQuery refused, with the reason; they belong in failed_events. */
  rejected: { row: Row; reason: Failure }[];
}

export const STAGING_PREFIX = '_staging_';

/** Thrown when a batch cannot be loaded now; the caller keeps the offsets uncommitted. */
export class LoadError extends Error {
  override name = 'LoadError';
  constructor(
    message: string,
    readonly kind: 'transient' | 'invalid' | 'fatal' | 'stopping',
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}

export class Loader {
  constructor(private readonly opts: LoaderOptions) {}

  /**
   * Loads `rows` into `def`'s table. Transient errors (network, 5xx, rate limits) are
   * retried with backoff until BigQuery answers or the sink stops; each attempt uses a new
   * staging table, so a half-written attempt never leaks into the target.
   */
  async load(def: TableDef, rows: Row[]): Promise<LoadResult> {
    const unique = dedupe(rows);
    if (unique.length === 0) return { loaded: 0, inserted: 0, rejected: [] };
    const timer = this.opts.metrics.batchSeconds.startTimer({ table: def.name });
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await this.attempt(def, unique);
        timer();
        return result;
      } catch (err) {
        const kind = err instanceof LoadError ? err.kind : classifyError(err);
        this.opts.metrics.errors.inc({ kind: `bigquery_${kind}` });
        if (kind !== 'transient' || this.opts.stopping()) {
          throw err instanceof LoadError ? err : new LoadError(describe(err), kind, err);
        }
        const wait = backoffMs(attempt, this.opts.initialBackoffMs, this.opts.maxBackoffMs);
        this.opts.logger.warn(
          { table: def.name, rows: unique.length, attempt, waitMs: wait, err: describe(err) },
          'BigQuery load failed, retrying',
        );
        await sleep(wait);
      }
    }
  }

  private async attempt(def: TableDef, rows: Row[]): Promise<LoadResult> {
    const { dataset, bq } = this.opts;
    const stagingId = `${STAGING_PREFIX}${def.name}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
    const [staging] = await dataset.createTable(stagingId, {
      schema: { fields: def.fields },
      // Real BigQuery deletes it by itself if the sink dies before dropping it.
      expirationTime: String(Date.now() + 24 * 3600 * 1000),
    });
    try {
      const rejected: LoadResult['rejected'] = [];
      for (const part of chunk(rows, (r) => r.bytes, this.opts.insertChunkRows, this.opts.insertChunkBytes)) {
        rejected.push(...(await this.insert(staging, part)));
      }
      const accepted = rows.length - rejected.length;
      if (accepted === 0) return { loaded: 0, inserted: 0, rejected };

      // A streaming insert can answer OK before the rows are readable (a table created
      // seconds ago on BigQuery); check before MERGEing, or the offsets would be committed
      // for rows that never arrived.
      const count = await runQuery(
        bq,
        `SELECT COUNT(DISTINCT row_id) AS n FROM \`${dataset.id}.${stagingId}\``,
      );
      const n = Number(count.rows[0]?.n ?? 0);
      if (n !== accepted) {
        throw new LoadError(`staging table holds ${n} of ${accepted} rows`, 'transient');
      }

      const merged = await runQuery(bq, mergeSql(dataset.id!, def, stagingId, rows));
      return { loaded: accepted, inserted: merged.affectedRows, rejected };
    } finally {
      staging.delete().catch((err: unknown) => {
        this.opts.logger.debug({ table: stagingId, err: describe(err) }, 'staging table not dropped');
      });
    }
  }

  /**
   * Inserts rows into the staging table and returns those BigQuery refuses. Per-row errors
   * (BigQuery's insertErrors) name the bad rows. A whole request refused with 400, or
   * answered 5xx again and again (the emulator's answer to a wrongly typed value), is split
   * in halves until the bad row is alone; a lone row is only declared rejected when
   * BigQuery otherwise answers (its table's metadata reads fine), so an outage never turns
   * good rows into failed events.
   */
  private async insert(staging: Table, rows: Row[]): Promise<LoadResult['rejected']> {
    for (let attempt = 0; ; attempt++) {
      try {
        await staging.insert(
          rows.map((r) => ({ json: r.json })),
          { raw: true, skipInvalidRows: false, ignoreUnknownValues: false },
        );
        return [];
      } catch (err) {
        const partial = perRowErrors(err, rows);
        if (partial) {
          const retry = rows.filter((r) => !partial.has(r));
          const rejected = [...partial].map(([row, reason]) => ({ row, reason }));
          return retry.length > 0 ? [...rejected, ...(await this.insert(staging, retry))] : rejected;
        }
        const kind = classifyError(err);
        const status = (err as { code?: unknown }).code;
        const answered = typeof status === 'number';
        if (kind === 'fatal' || (kind === 'transient' && !answered)) throw err;
        if (kind === 'transient' && attempt + 1 < this.opts.insertAttempts) {
          if (this.opts.stopping()) throw err;
          await sleep(backoffMs(attempt, this.opts.initialBackoffMs, this.opts.maxBackoffMs));
          continue;
        }
        if (rows.length > 1) {
          const mid = Math.ceil(rows.length / 2);
          return [
            ...(await this.insert(staging, rows.slice(0, mid))),
            ...(await this.insert(staging, rows.slice(mid))),
          ];
        }
        await staging.getMetadata(); // throws (transient) when BigQuery is not answering
        const row = rows[0]!;
        this.opts.logger.warn(
          { rowId: row.rowId, table: row.table, err: describe(err) },
          'BigQuery rejected a row',
        );
        return [{ row, reason: { code: 'bigquery_rejected', path: '', message: describe(err) } }];
      }
    }
  }
}

/** First row per row_id: a batch may hold a record twice (a producer's retry). */
function dedupe(rows: Row[]): Row[] {
  const seen = new Set<string>();
  return rows.filter((r) => (seen.has(r.rowId) ? false : (seen.add(r.rowId), true)));
}

/**
 * The MERGE: inserts staging rows whose row_id the target lacks. The ON clause also
 * bounds the target's partitioning column by the batch's range (a row's partition time
 * is a function of its id), so BigQuery prunes partitions instead of scanning the table.
 */
export function mergeSql(datasetId: string, def: TableDef, stagingId: string, rows: Row[]): string {
  let min = rows[0]!.partitionTime;
  let max = min;
  for (const r of rows) {
    if (r.partitionTime < min) min = r.partitionTime;
    if (r.partitionTime > max) max = r.partitionTime;
  }
  const cols = def.fields.map((f) => `\`${f.name}\``);
  const p = `\`${def.partitionField}\``;
  return [
    `MERGE \`${datasetId}.${def.name}\` T`,
    `USING (SELECT * FROM \`${datasetId}.${stagingId}\` WHERE TRUE`,
    `  QUALIFY ROW_NUMBER() OVER (PARTITION BY row_id ORDER BY kafka_topic, kafka_partition, kafka_offset) = 1) S`,
    `ON T.row_id = S.row_id AND T.${p} BETWEEN TIMESTAMP('${min}') AND TIMESTAMP('${max}')`,
    `WHEN NOT MATCHED THEN INSERT (${cols.join(', ')})`,
    `VALUES (${cols.map((c) => `S.${c}`).join(', ')})`,
  ].join('\n');
}

/** insertAll's per-row errors (PartialFailureError), by row; null for a whole-request error. */
function perRowErrors(err: unknown, rows: Row[]): Map<Row, Failure> | null {
  const e = err as {
    name?: string;
    errors?: { row?: unknown; errors?: { reason?: string; message?: string }[] }[];
  };
  if (e.name !== 'PartialFailureError' || !Array.isArray(e.errors)) return null;
  const byJson = new Map<unknown, Row>(rows.map((r) => [r.json, r]));
  const out = new Map<Row, Failure>();
  for (const entry of e.errors) {
    const row = byJson.get((entry.row as { json?: unknown } | undefined)?.json ?? entry.row);
    const reasons = entry.errors ?? [];
    // 'stopped' rows were fine; BigQuery refused them because another row was not.
    const bad = reasons.filter((r) => r.reason !== 'stopped');
    if (row && bad.length > 0) {
      out.set(row, {
        code: 'bigquery_rejected',
        path: '',
        message: bad.map((r) => `${r.reason ?? 'invalid'}: ${r.message ?? ''}`).join('; '),
      });
    }
  }
  return out.size > 0 ? out : null;
}

function describe(err: unknown): string {
  const e = err as { code?: unknown; message?: string };
  return `${e.code !== undefined ? `${String(e.code)} ` : ''}${e.message ?? String(err)}`.slice(0, 2000);
}

/** Drops staging tables left behind by sinks that died mid-batch (older than `olderThanMs`). */
export async function dropStaleStagingTables(
  dataset: Dataset,
  olderThanMs: number,
  logger: Logger,
): Promise<void> {
  const [tables] = await dataset.getTables();
  const cutoff = Date.now() - olderThanMs;
  for (const t of tables) {
    if (!t.id?.startsWith(STAGING_PREFIX)) continue;
    let created = Number((t.metadata as { creationTime?: string } | undefined)?.creationTime ?? 0);
    if (!created) {
      const [meta] = (await t.getMetadata().catch(() => [{}])) as [{ creationTime?: string }];
      created = Number(meta.creationTime ?? 0);
    }
    // Unknown age: keep it, it may belong to a running instance.
    if (!created || created > cutoff) continue;
    await t.delete().catch(() => undefined);
    logger.info({ table: t.id }, 'stale staging table dropped');
  }
}
