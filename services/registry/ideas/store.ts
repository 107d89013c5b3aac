// Persistence of ideas: a JSON document with a version per idea, and an audit entry (entity
// type 'idea') written in the same transaction as every change, as the shared store does for
// flags, segments and experiments. Ideas have no outbox row: the registry-changes topic's schema
// carries flags and experiments only.
import type { PoolClient } from 'pg';
import type { ChangeMeta, Queryable, Stored } from '../core/entity-store';
import { ERR } from '../core/errors';
import { diff } from '../core/json-diff';
import type { Idea } from './model';

interface Row {
  key: string;
  version: string;
  doc: Idea;
  created_at: Date;
  updated_at: Date;
}
const COLUMNS = 'key, version, doc, created_at, updated_at';
const toStored = (r: Row): Stored<Idea> => ({
  key: r.key,
  version: Number(r.version),
  doc: r.doc,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

export async function loadIdea(
  q: Queryable,
  key: string,
  opts: { lock?: boolean } = {},
): Promise<Stored<Idea>> {
  const { rows } = await q.query<Row>(
    `SELECT ${COLUMNS} FROM ideas WHERE key = $1${opts.lock ? ' FOR UPDATE' : ''}`,
    [key],
  );
  if (!rows[0]) throw ERR.NOT_FOUND({ what: `idea "${key}"` });
  return toStored(rows[0]);
}

export async function listIdeas(q: Queryable, status?: string): Promise<Stored<Idea>[]> {
  const { rows } = status
    ? await q.query<Row>(`SELECT ${COLUMNS} FROM ideas WHERE status = $1 ORDER BY key`, [status])
    : await q.query<Row>(`SELECT ${COLUMNS} FROM ideas ORDER BY key`);
  return rows.map(toStored);
}

export async function insertIdea(client: PoolClient, doc: Idea, meta: ChangeMeta): Promise<Stored<Idea>> {
  let rows: Row[];
  try {
    ({ rows } = await client.query<Row>(
      `INSERT INTO ideas (key, version, doc, status) VALUES ($1, 1, $2, $3) RETURNING ${COLUMNS}`,
      [doc.key, doc, doc.status],
    ));
  } catch (err) {
    if ((err as { code?: string }).code === '23505') throw ERR.ALREADY_EXISTS({ what: `idea "${doc.key}"` });
    throw err;
  }
  const stored = toStored(rows[0]!);
  await audit(client, null, stored, meta);
  return stored;
}

export async function updateIdea(
  client: PoolClient,
  current: Stored<Idea>,
  doc: Idea,
  meta: ChangeMeta,
): Promise<Stored<Idea>> {
  const { rows } = await client.query<Row>(
    `UPDATE ideas SET doc = $2, status = $3, version = version + 1, updated_at = now() WHERE key = $1
     RETURNING ${COLUMNS}`,
    [current.key, doc, doc.status],
  );
  const stored = toStored(rows[0]!);
  await audit(client, current, stored, meta);
  return stored;
}

export async function deleteIdea(client: PoolClient, current: Stored<Idea>, meta: ChangeMeta): Promise<void> {
  await client.query('DELETE FROM ideas WHERE key = $1', [current.key]);
  await audit(client, current, null, meta);
}

async function audit(
  client: PoolClient,
  before: Stored<Idea> | null,
  after: Stored<Idea> | null,
  meta: ChangeMeta,
): Promise<void> {
  const withMeta = (s: Stored<Idea> | null) =>
    s ? { ...s.doc, version: s.version, createdAt: s.createdAt, updatedAt: s.updatedAt } : null;
  await client.query(
    `INSERT INTO audit_log (entity_type, entity_key, action, actor, version, before, after, diff)
     VALUES ('idea', $1, $2, $3, $4, $5, $6, $7)`,
    [
      (after ?? before)!.key,
      meta.action,
      meta.actor,
      after?.version ?? null,
      withMeta(before),
      withMeta(after),
      JSON.stringify(diff(before?.doc ?? null, after?.doc ?? null)),
    ],
  );
}
