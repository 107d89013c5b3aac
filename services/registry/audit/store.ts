// The experiment log (audit_log): one immutable entry per change of a flag, segment,
// experiment or idea, written by the entity stores in the change's transaction; read here.

import type { Queryable } from '../core/entity-store';

export interface AuditFilter {
  entityType?: 'flag' | 'segment' | 'experiment' | 'idea';
  key?: string;
  actor?: string;
  from?: string;
  to?: string;
  /** Entries with an id below this one (paging backwards from the newest). */
  before?: number;
  limit?: number;
}

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
export async function queryAudit(q: Queryable, f: AuditFilter, withDocs = false): Promise<AuditEntry[]> {
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
