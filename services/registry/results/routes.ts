// Results in the registry: the results service records each refresh's summary (PUT), owners
// and stakeholders read the report (GET, as JSON, Markdown or HTML), and anyone with write
// access can ask for a refresh now (POST .../refresh, forwarded to the results service).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { resultsSummarySchema, type ResultsSummary } from '../../common/results-summary';
import type { AppDeps } from '../app';
import { keyParams } from '../core/schemas';
import { authorize, principalOf } from '../tokens/auth';
import { withTransaction } from '../core/db';
import { HttpError, badRequest } from '../core/errors';
import type { Experiment } from '../experiments/model';
import { loadOrThrow } from '../core/entity-store';
import { queryAudit } from '../audit/routes';
import { resultsEvents } from './events';
import { htmlPage } from './markdown-html';
import { renderReportMarkdown, reportDocument } from './report';
import type { ResultsSettings } from './settings';

const tags = ['results'];
type Format = 'json' | 'markdown' | 'html';

/** ?format= wins; else the first Accept type we can serve; JSON by default. */
export function reportFormat(query: string | undefined, accept: string | undefined): Format | null {
  if (query) {
    if (query === 'json') return 'json';
    if (query === 'md' || query === 'markdown') return 'markdown';
    if (query === 'html') return 'html';
    return null;
  }
  for (const part of (accept ?? '').split(',')) {
    const type = part.split(';')[0]!.trim().toLowerCase();
    if (type === 'text/markdown') return 'markdown';
    if (type === 'text/html') return 'html';
    if (type === 'application/json' || type === '*/*' || type === 'application/*') return 'json';
  }
  return 'json';
}

async function latestSummary(deps: AppDeps, key: string): Promise<ResultsSummary | null> {
  const { rows } = await deps.pool.query<{ summary: ResultsSummary }>(
    'SELECT summary FROM experiment_result_summaries WHERE experiment_key = $1',
    [key],
  );
  return rows[0]?.summary ?? null;
}

/** The results frozen into the log at conclusion (the newest such entry). */
async function finalSummary(deps: AppDeps, key: string): Promise<ResultsSummary | null> {
  const { rows } = await deps.pool.query<{ after: { results: ResultsSummary | null } | null }>(
    `SELECT after FROM audit_log WHERE entity_type = 'experiment' AND entity_key = $1 AND action = 'results:final'
     ORDER BY id DESC LIMIT 1`,
    [key],
  );
  return rows[0]?.after?.results ?? null;
}

export function resultsRoutes(app: FastifyInstance, deps: AppDeps, settings: ResultsSettings): void {
  const read = authorize(deps.tokens, 'read');
  const write = authorize(deps.tokens, 'write');

  app.get(
    '/v1/experiments/:key/results',
    {
      onRequest: read,
      schema: {
        tags,
        summary:
          'The results report: decision, effects, health checks, learnings, brief and log (JSON, or Markdown/HTML by Accept or ?format=)',
        params: keyParams,
        querystring: z.strictObject({ format: z.enum(['json', 'md', 'markdown', 'html']).optional() }),
      },
    },
    async (request: FastifyRequest, reply: FastifyReply) => {
      const { key } = request.params as { key: string };
      const { format: asked } = request.query as { format?: string };
      const format = reportFormat(asked, request.headers.accept);
      if (!format) throw badRequest('format must be json, markdown or html');
      const stored = await loadOrThrow<Experiment>(deps.pool, 'experiment', key);
      const [latest, final, log] = await Promise.all([
        latestSummary(deps, key),
        finalSummary(deps, key),
        queryAudit(deps.pool, { entityType: 'experiment', key, limit: 200 }),
      ]);
      const doc = reportDocument(stored.doc, latest, final, log);
      reply.header('vary', 'accept');
      if (format === 'json') return reply.send(doc);
      const markdown = renderReportMarkdown(doc, stored.doc);
      if (format === 'markdown') return reply.type('text/markdown; charset=utf-8').send(markdown);
      return reply
        .type('text/html; charset=utf-8')
        .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
        .send(htmlPage(`Results: ${stored.doc.name}`, markdown));
    },
  );

  app.put(
    '/v1/experiments/:key/results',
    {
      onRequest: write,
      schema: {
        tags,
        summary:
          'Record the summary of a results snapshot (the results service calls this after each refresh)',
        params: keyParams,
        body: resultsSummarySchema,
      },
    },
    async (request, reply) => {
      const { key } = request.params as { key: string };
      const summary = request.body as ResultsSummary;
      if (summary.experimentKey !== key) {
        throw badRequest('experimentKey must equal the key in the path', [
          { path: 'experimentKey', message: `expected ${key}` },
        ]);
      }
      const actor = principalOf(request).identity;
      const outcome = await withTransaction(deps.pool, async (client) => {
        await loadOrThrow(client, 'experiment', key, { lock: true });
        const { rows } = await client.query<{ summary: ResultsSummary; snapshot_at: Date }>(
          'SELECT summary, snapshot_at FROM experiment_result_summaries WHERE experiment_key = $1 FOR UPDATE',
          [key],
        );
        const previous = rows[0];
        // Refreshes may finish out of order; an older snapshot never replaces a newer one.
        if (previous && previous.snapshot_at.getTime() >= Date.parse(summary.snapshotAt)) {
          return { recorded: false, events: [] as string[] };
        }
        await client.query(
          `INSERT INTO experiment_result_summaries (experiment_key, phase, snapshot_id, snapshot_at, summary, recorded_by, recorded_at)
           VALUES ($1, $2, $3, $4, $5, $6, now())
           ON CONFLICT (experiment_key) DO UPDATE SET phase = EXCLUDED.phase, snapshot_id = EXCLUDED.snapshot_id,
             snapshot_at = EXCLUDED.snapshot_at, summary = EXCLUDED.summary, recorded_by = EXCLUDED.recorded_by,
             recorded_at = now()`,
          [key, summary.phase, summary.snapshotId, summary.snapshotAt, JSON.stringify(summary), actor],
        );
        const events = resultsEvents(previous?.summary ?? null, summary);
        for (const e of events) {
          // Notable results join the experiment log, so the report's history shows them.
          await client.query(
            `INSERT INTO audit_log (entity_type, entity_key, action, actor, version, before, after, diff)
             VALUES ('experiment', $1, $2, $3, NULL, NULL, $4, '[]'::jsonb)`,
            [key, e.event.replace('results.', 'results:'), actor, JSON.stringify(e.payload)],
          );
          await client.query('SELECT enqueue_webhook_event($1, $2, $3)', [
            e.event,
            key,
            JSON.stringify({ event: e.event, ...e.payload }),
          ]);
        }
        return { recorded: true, events: events.map((e) => e.event) };
      });
      return reply.send({ experimentKey: key, snapshotId: summary.snapshotId, ...outcome });
    },
  );

  app.get(
    '/v1/experiments/:key/results/history',
    {
      onRequest: read,
      schema: {
        tags,
        summary:
          "Every results snapshot of a phase (default: the current one) from BigQuery's experiment_results, as series of the cumulative lift and its interval per metric and variant (forwarded to the results service)",
        params: keyParams,
        querystring: z.strictObject({ phase: z.coerce.number().int().min(0).optional() }),
      },
    },
    async (request, reply) => {
      const { key } = request.params as { key: string };
      const { phase } = request.query as { phase?: number };
      const stored = await loadOrThrow<Experiment>(deps.pool, 'experiment', key);
      const phases = stored.doc.phases;
      const chosen = phase === undefined ? phases[phases.length - 1] : phases.find((p) => p.number === phase);
      const url = new URL(
        `/v1/experiments/${encodeURIComponent(key)}/history`,
        settings.REGISTRY_RESULTS_URL,
      );
      if (chosen) {
        url.searchParams.set('phase', String(chosen.number));
        // Snapshots of a phase are taken after it started: lets BigQuery prune older partitions.
        url.searchParams.set('since', new Date(Date.parse(chosen.startedAt) - 3_600_000).toISOString());
      } else if (phase !== undefined) {
        url.searchParams.set('phase', String(phase));
      }
      return forward(reply, () =>
        fetch(url, { signal: AbortSignal.timeout(settings.REGISTRY_RESULTS_TIMEOUT_MS) }),
      );
    },
  );

  app.post(
    '/v1/experiments/:key/results/refresh',
    {
      onRequest: write,
      schema: { tags, summary: 'Refresh the results now (waits for the results service)', params: keyParams },
    },
    async (request, reply) => {
      const { key } = request.params as { key: string };
      await loadOrThrow(deps.pool, 'experiment', key);
      return forward(reply, () =>
        fetch(new URL(`/v1/experiments/${encodeURIComponent(key)}/refresh`, settings.REGISTRY_RESULTS_URL), {
          method: 'POST',
          signal: AbortSignal.timeout(settings.REGISTRY_RESULTS_TIMEOUT_MS),
        }),
      );
    },
  );

  /** Sends the results service's answer on; 404 and 504 pass through, other failures are a 502. */
  async function forward(reply: FastifyReply, call: () => Promise<Response>) {
    let res: Response;
    try {
      res = await call();
    } catch (err) {
      throw new HttpError(
        502,
        'results_unavailable',
        `the results service at ${settings.REGISTRY_RESULTS_URL} did not answer: ${(err as Error).message}`,
      );
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new HttpError(
        502,
        'results_unavailable',
        `the results service answered ${res.status} without JSON`,
      );
    }
    // 404 (no data yet) and 504 (timed out) pass through; other failures are the upstream's.
    const status = res.ok || res.status === 404 || res.status === 504 ? res.status : 502;
    return reply.code(status).send(body);
  }
}
