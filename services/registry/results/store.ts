// Results summaries in the registry: the latest per experiment (experiment_result_summaries),
// the final one frozen into the log at conclusion, and the log entries notable results add.

import type { ResultsSummary } from '../../common/results-summary';
import type { Queryable } from '../core/entity-store';
import type { ResultsEvent } from './events';

export async function latestSummary(q: Queryable, key: string): Promise<ResultsSummary | null> {
  const { rows } = await q.query<{ summary: ResultsSummary }>(
    'SELECT summary FROM experiment_result_summaries WHERE experiment_key = $1',
    [key],
  );
  return rows[0]?.summary ?? null;
}

/** The latest summary of every experiment that has one, by experiment key. */
export async function latestSummaries(q: Queryable): Promise<Map<string, ResultsSummary>> {
  const { rows } = await q.query<{ experiment_key: string; summary: ResultsSummary }>(
    'SELECT experiment_key, summary FROM experiment_result_summaries',
  );
  return new Map(rows.map((r) => [r.experiment_key, r.summary]));
}

/** The results frozen into the log at conclusion (the newest such entry). */
export async function finalSummary(q: Queryable, key: string): Promise<ResultsSummary | null> {
  const { rows } = await q.query<{ after: { results: ResultsSummary | null } | null }>(
    `SELECT after FROM audit_log WHERE entity_type = 'experiment' AND entity_key = $1 AND action = 'results:final'
     ORDER BY id DESC LIMIT 1`,
    [key],
  );
  return rows[0]?.after?.results ?? null;
}

/** The recorded summary and its snapshot time, locked for the caller's transaction. */
export async function lockRecordedSummary(
  q: Queryable,
  key: string,
): Promise<{ summary: ResultsSummary; snapshot_at: Date } | undefined> {
  const { rows } = await q.query<{ summary: ResultsSummary; snapshot_at: Date }>(
    'SELECT summary, snapshot_at FROM experiment_result_summaries WHERE experiment_key = $1 FOR UPDATE',
    [key],
  );
  return rows[0];
}

export async function saveSummary(
  q: Queryable,
  key: string,
  summary: ResultsSummary,
  actor: string,
): Promise<void> {
  await q.query(
    `INSERT INTO experiment_result_summaries (experiment_key, phase, snapshot_id, snapshot_at, summary, recorded_by, recorded_at)
     VALUES ($1, $2, $3, $4, $5, $6, now())
     ON CONFLICT (experiment_key) DO UPDATE SET phase = EXCLUDED.phase, snapshot_id = EXCLUDED.snapshot_id,
       snapshot_at = EXCLUDED.snapshot_at, summary = EXCLUDED.summary, recorded_by = EXCLUDED.recorded_by,
       recorded_at = now()`,
    [key, summary.phase, summary.snapshotId, summary.snapshotAt, JSON.stringify(summary), actor],
  );
}

/** A notable result joins the experiment log (so the report's history shows it) and is queued for webhooks. */
export async function recordResultsEvent(
  q: Queryable,
  key: string,
  e: ResultsEvent,
  actor: string,
): Promise<void> {
  await q.query(
    `INSERT INTO audit_log (entity_type, entity_key, action, actor, version, before, after, diff)
     VALUES ('experiment', $1, $2, $3, NULL, NULL, $4, '[]'::jsonb)`,
    [key, e.event.replace('results.', 'results:'), actor, JSON.stringify(e.payload)],
  );
  await q.query('SELECT enqueue_webhook_event($1, $2, $3)', [
    e.event,
    key,
    JSON.stringify({ event: e.event, ...e.payload }),
  ]);
}
