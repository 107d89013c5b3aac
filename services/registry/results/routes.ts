// Results routes: the report (GET, as JSON, Markdown or HTML), the summary the results
// service records after each refresh (PUT), and a refresh now (POST .../refresh, forwarded to
// the results service).
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { resultsSummarySchema, type ResultsSummary } from '../../common/results-summary';
import { ERR } from '../core/errors';
import { keyParams } from '../core/schemas';
import type { FeatureDeps } from '../http/feature';
import { authorize, principalOf } from '../tokens/auth';
import { buildReport, history, recordSummary, refresh, type ReportFormat } from './service';
import type { ResultsSettings } from './settings';

const tags = ['results'];

/** ?format= wins; else the first Accept type we can serve; JSON by default. */
export function reportFormat(query: string | undefined, accept: string | undefined): ReportFormat | null {
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

export interface ResultsDeps extends FeatureDeps {
  settings: ResultsSettings;
}

export const resultsPlugin: FastifyPluginAsync<ResultsDeps> = async (app, deps) => {
  const { pool, settings } = deps;
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
      if (!format) throw ERR.REPORT_FORMAT();
      const report = await buildReport(pool, key, format);
      reply.header('vary', 'accept');
      if (report.format === 'json') return reply.send(report.document);
      if (report.format === 'markdown') return reply.type('text/markdown; charset=utf-8').send(report.text);
      return reply
        .type('text/html; charset=utf-8')
        .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
        .send(report.text);
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
      return reply.send(await recordSummary(pool, key, summary, principalOf(request).identity));
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
      const { status, body } = await history(pool, key, phase, settings);
      return reply.code(status).send(body);
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
      const { status, body } = await refresh(pool, key, settings);
      return reply.code(status).send(body);
    },
  );
};
