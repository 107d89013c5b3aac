// GET /v1/audit: the experiment log, filtered and paged.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { FeatureDeps } from '../http/feature';
import { authorize } from '../tokens/auth';
import { queryAudit, type AuditFilter } from './store';

const querySchema = z.strictObject({
  entityType: z.enum(['flag', 'segment', 'experiment', 'idea']).optional(),
  key: z.string().optional(),
  actor: z.string().optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  /** Entries with an id below this one (paging backwards from the newest). */
  before: z.coerce.number().int().positive().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export const auditPlugin: FastifyPluginAsync<FeatureDeps> = async (app, deps) => {
  app.get(
    '/v1/audit',
    {
      onRequest: authorize(deps.tokens, 'read'),
      schema: {
        tags: ['audit'],
        summary: 'The experiment log: immutable entries (actor, time, action, diff), newest first',
        querystring: querySchema.extend({ include: z.enum(['diff', 'documents']).default('diff') }),
      },
    },
    async (request) => {
      const q = request.query as AuditFilter & { limit: number; include: 'diff' | 'documents' };
      const entries = await queryAudit(deps.pool, q, q.include === 'documents');
      const last = entries[entries.length - 1];
      return { entries, next: entries.length === q.limit && last ? last.id : null };
    },
  );
};
