import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppDeps } from '../app';
import { authorize } from '../tokens/auth';

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
export type AuditQuery = z.infer<typeof querySchema>;

export interface AuditEntry {
  id: number;
  entityType: string;
  key: string;
  action: string;
  actor: string;
  at: string;
  version: number | null;
  diff: unknown;
  before?: unknown;
  after?: unknown;
}

/** The experiment log, newest first. Every filter is a bound parameter. */
export async function queryAudit(
  q: { query: AppDeps['pool']['query'] } | AppDeps['pool'],
  f: Partial<AuditQuery>,
  withDocs = false,
): Promise<AuditEntry[]> {
  const clauses: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    clauses.push(sql.replace('?', `$${params.length}`));
  };
  if (f.entityType) add('entity_type = ?', f.entityType);
  if (f.key) add('entity_key = ?', f.key);
  if (f.actor) add('actor = ?', f.actor);
  if (f.from) add('at >= ?', f.from);
  if (f.to) add('at < ?', f.to);
  if (f.before) add('id < ?', f.before);
  params.push(f.limit ?? 100);
  const { rows } = await q.query<{
    id: string;
    entity_type: string;
    entity_key: string;
    action: string;
    actor: string;
    at: Date;
    version: string | null;
    diff: unknown;
    before: unknown;
    after: unknown;
  }>(
    `SELECT id, entity_type, entity_key, action, actor, at, version, diff${withDocs ? ', before, after' : ''}
     FROM audit_log ${clauses.length ? `WHERE ${clauses.join(' AND ')}` : ''}
     ORDER BY id DESC LIMIT $${params.length}`,
    params,
  );
  return rows.map((r) => ({
    id: Number(r.id),
    entityType: r.entity_type,
    key: r.entity_key,
    action: r.action,
    actor: r.actor,
    at: r.at.toISOString(),
    version: r.version === null ? null : Number(r.version),
    diff: r.diff,
    ...(withDocs ? { before: r.before, after: r.after } : {}),
  }));
}

export function auditRoutes(app: FastifyInstance, deps: AppDeps): void {
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
      const q = request.query as AuditQuery & { include: 'diff' | 'documents' };
      const entries = await queryAudit(deps.pool, q, q.include === 'documents');
      const last = entries[entries.length - 1];
      return { entries, next: entries.length === q.limit && last ? last.id : null };
    },
  );
}
