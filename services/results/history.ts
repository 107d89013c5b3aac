// The history of an experiment's results: every snapshot the service recorded in BigQuery's
// experiment_results (the one truth for snapshots, loaded by the sink from xp.results.v1), as
// one series per metric and variant of the cumulative lift and its interval over snapshot time.
// One parameterised query, filtered on the experiment (the table's clustering column) and on
// snapshot_at (its partitioning column), so a long-running experiment scans only its days.
import type { BigQuery } from '@google-cloud/bigquery';

export interface HistoryPoint {
  snapshotAt: string;
  snapshotId: string;
  units: number;
  lift: number | null;
  liftCiLower: number | null;
  liftCiUpper: number | null;
  pValue: number | null;
  chanceToWin: number | null;
  significant: boolean | null;
}

export interface HistorySeries {
  metric: string;
  role: string;
  variationId: string;
  baselineVariationId: string;
  points: HistoryPoint[];
}

export interface ResultsHistory {
  experimentKey: string;
  /** The phase asked for, or the newest phase found. */
  phase: number | null;
  snapshots: number;
  series: HistorySeries[];
}

export interface HistoryQuery {
  phase?: number;
  /** Snapshots from this time on (lets BigQuery prune partitions); default: 400 days back. */
  since?: Date;
  /** Points kept per series at most, evenly spaced, the newest always kept. */
  maxPoints?: number;
}

const DEFAULT_LOOKBACK_MS = 400 * 24 * 3_600_000;
export const MAX_HISTORY_POINTS = 500;

export function historyQuery(project: string, dataset: string): string {
  return `
SELECT snapshot_id, snapshot_at, phase, metric, metric_role, variation_id, baseline_variation_id,
  is_baseline, units, lift, lift_ci_lower, lift_ci_upper, p_value, chance_to_win, significant
FROM \`${project}.${dataset}.experiment_results\`
WHERE experiment_key = @key
  AND snapshot_at >= @since
  AND (@phase IS NULL OR phase = @phase)
  AND NOT is_baseline
ORDER BY snapshot_at, metric, variation_id
LIMIT 100000`;
}

type Row = Record<string, unknown>;
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
/** BigQuery's client returns TIMESTAMP as { value: ISO string }; the emulator may give microseconds. */
function isoTime(v: unknown): string {
  const raw = v && typeof v === 'object' && 'value' in v ? (v as { value: unknown }).value : v;
  if (typeof raw === 'number' || (typeof raw === 'string' && /^\d+$/.test(raw))) {
    return new Date(Number(raw) / 1000).toISOString();
  }
  return new Date(String(raw)).toISOString();
}

/** Evenly thins a series to at most `max` points, keeping the first and the newest. */
export function thin<T>(points: T[], max: number): T[] {
  if (points.length <= max || max < 2) return points.slice(-Math.max(max, 1));
  const out: T[] = [];
  const step = (points.length - 1) / (max - 1);
  for (let i = 0; i < max; i++) out.push(points[Math.round(i * step)]!);
  return out;
}

/** Shapes the query's rows into series (pure; unit-tested). Duplicate rows of a snapshot count once. */
export function historyFromRows(
  experimentKey: string,
  rows: Row[],
  opts: { phase?: number; maxPoints?: number } = {},
): ResultsHistory {
  const phase = opts.phase ?? (rows.length ? Math.max(...rows.map((r) => Number(r.phase))) : null);
  const series = new Map<string, HistorySeries>();
  const seen = new Set<string>();
  const snapshots = new Set<string>();
  for (const r of rows) {
    if (phase !== null && Number(r.phase) !== phase) continue;
    const metric = String(r.metric);
    const variationId = String(r.variation_id);
    const snapshotId = String(r.snapshot_id);
    const id = `${snapshotId}\u0000${metric}\u0000${variationId}`;
    if (seen.has(id)) continue;
    seen.add(id);
    snapshots.add(snapshotId);
    const key = `${metric}\u0000${variationId}`;
    let s = series.get(key);
    if (!s) {
      s = {
        metric,
        role: String(r.metric_role),
        variationId,
        baselineVariationId: String(r.baseline_variation_id),
        points: [],
      };
      series.set(key, s);
    }
    s.points.push({
      snapshotAt: isoTime(r.snapshot_at),
      snapshotId,
      units: Number(r.units ?? 0),
      lift: num(r.lift),
      liftCiLower: num(r.lift_ci_lower),
      liftCiUpper: num(r.lift_ci_upper),
      pValue: num(r.p_value),
      chanceToWin: num(r.chance_to_win),
      significant: r.significant === null || r.significant === undefined ? null : Boolean(r.significant),
    });
  }
  const max = opts.maxPoints ?? MAX_HISTORY_POINTS;
  const out = [...series.values()].map((s) => {
    s.points.sort((a, b) => a.snapshotAt.localeCompare(b.snapshotAt));
    return { ...s, points: thin(s.points, max) };
  });
  return { experimentKey, phase, snapshots: snapshots.size, series: out };
}

export async function readResultsHistory(
  bq: BigQuery,
  dataset: string,
  experimentKey: string,
  q: HistoryQuery = {},
): Promise<ResultsHistory> {
  const since = q.since ?? new Date(Date.now() - DEFAULT_LOOKBACK_MS);
  const [rows] = await bq.query({
    query: historyQuery(bq.projectId, dataset),
    params: { key: experimentKey, phase: q.phase ?? null, since: bq.timestamp(since) },
    types: { key: 'STRING', phase: 'INT64' },
  });
  return historyFromRows(experimentKey, rows as Row[], { phase: q.phase, maxPoints: q.maxPoints });
}
