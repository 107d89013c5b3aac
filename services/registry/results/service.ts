// Results in the registry: the report (one document, rendered as JSON, Markdown or HTML), the
// summaries the results service records after each refresh, and refreshes on demand.

import type { ResultsSummary } from '../../common/results-summary';
import { queryAudit } from '../audit/store';
import { withTransaction, type Pool } from '../core/db';
import { loadOrThrow } from '../core/entity-store';
import { ERR } from '../core/errors';
import type { Experiment } from '../experiments/model';
import { resultsEvents } from './events';
import { htmlPage } from './markdown-html';
import { renderReportMarkdown, reportDocument, type ReportDocument } from './report';
import type { ResultsSettings } from './settings';
import { finalSummary, latestSummary, lockRecordedSummary, recordResultsEvent, saveSummary } from './store';

export type ReportFormat = 'json' | 'markdown' | 'html';

export type RenderedReport =
  { format: 'json'; document: ReportDocument } | { format: 'markdown' | 'html'; text: string };

export async function buildReport(pool: Pool, key: string, format: ReportFormat): Promise<RenderedReport> {
  const stored = await loadOrThrow<Experiment>(pool, 'experiment', key);
  const [latest, final, log] = await Promise.all([
    latestSummary(pool, key),
    finalSummary(pool, key),
    queryAudit(pool, { entityType: 'experiment', key, limit: 200 }),
  ]);
  const document = reportDocument(stored.doc, latest, final, log);
  if (format === 'json') return { format, document };
  const markdown = renderReportMarkdown(document, stored.doc);
  if (format === 'markdown') return { format, text: markdown };
  return { format, text: htmlPage(`Results: ${stored.doc.name}`, markdown) };
}

/**
 * Records a refresh's summary unless a newer one is recorded (refreshes may finish out of
 * order), with the results events it causes (log entries, webhook deliveries).
 */
export async function recordSummary(pool: Pool, key: string, summary: ResultsSummary, actor: string) {
  if (summary.experimentKey !== key) {
    throw ERR.RESULTS_KEY_MISMATCH(undefined, [{ path: 'experimentKey', message: `expected ${key}` }]);
  }
  const outcome = await withTransaction(pool, async (client) => {
    await loadOrThrow(client, 'experiment', key, { lock: true });
    const previous = await lockRecordedSummary(client, key);
    // Refreshes may finish out of order; an older snapshot never replaces a newer one.
    if (previous && previous.snapshot_at.getTime() >= Date.parse(summary.snapshotAt)) {
      return { recorded: false, events: [] as string[] };
    }
    await saveSummary(client, key, summary, actor);
    const events = resultsEvents(previous?.summary ?? null, summary);
    for (const e of events) await recordResultsEvent(client, key, e, actor);
    return { recorded: true, events: events.map((e) => e.event) };
  });
  return { experimentKey: key, snapshotId: summary.snapshotId, ...outcome };
}

type ResultsServiceSettings = Pick<ResultsSettings, 'REGISTRY_RESULTS_URL' | 'REGISTRY_RESULTS_TIMEOUT_MS'>;

/** Asks the results service for a refresh now; its answer (status and JSON body) passes through. */
export async function refresh(
  pool: Pool,
  key: string,
  settings: ResultsServiceSettings,
): Promise<{ status: number; body: unknown }> {
  await loadOrThrow(pool, 'experiment', key);
  return forward(settings, () =>
    fetch(new URL(`/v1/experiments/${encodeURIComponent(key)}/refresh`, settings.REGISTRY_RESULTS_URL), {
      method: 'POST',
      signal: AbortSignal.timeout(settings.REGISTRY_RESULTS_TIMEOUT_MS),
    }),
  );
}

/**
 * Every results snapshot of a phase (default: the current one), from the results service's
 * history; its answer (status and JSON body) passes through.
 */
export async function history(
  pool: Pool,
  key: string,
  phase: number | undefined,
  settings: ResultsServiceSettings,
): Promise<{ status: number; body: unknown }> {
  const stored = await loadOrThrow<Experiment>(pool, 'experiment', key);
  const phases = stored.doc.phases;
  const chosen = phase === undefined ? phases[phases.length - 1] : phases.find((p) => p.number === phase);
  const url = new URL(`/v1/experiments/${encodeURIComponent(key)}/history`, settings.REGISTRY_RESULTS_URL);
  if (chosen) {
    url.searchParams.set('phase', String(chosen.number));
    // Snapshots of a phase are taken after it started: lets BigQuery prune older partitions.
    url.searchParams.set('since', new Date(Date.parse(chosen.startedAt) - 3_600_000).toISOString());
  } else if (phase !== undefined) {
    url.searchParams.set('phase', String(phase));
  }
  return forward(settings, () =>
    fetch(url, { signal: AbortSignal.timeout(settings.REGISTRY_RESULTS_TIMEOUT_MS) }),
  );
}

/** The results service's answer; 404 and 504 pass through, other failures are a 502. */
async function forward(
  settings: ResultsServiceSettings,
  call: () => Promise<Response>,
): Promise<{ status: number; body: unknown }> {
  let res: Response;
  try {
    res = await call();
  } catch (err) {
    throw ERR.RESULTS_UNAVAILABLE({ url: settings.REGISTRY_RESULTS_URL, reason: (err as Error).message });
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw ERR.RESULTS_NOT_JSON({ status: res.status });
  }
  // 404 (no data yet) and 504 (timed out) pass through; other failures are the upstream's.
  const status = res.ok || res.status === 404 || res.status === 504 ? res.status : 502;
  return { status, body };
}
