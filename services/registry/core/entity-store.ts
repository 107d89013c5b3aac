// Persistence of flags, segments and experiments (JSON documents with a version) and the
// one write path every change goes through: entity row, audit entry, outbox row and a
// NOTIFY, all in the caller's transaction, so they commit or vanish together.

import type { PoolClient } from 'pg';
import { LOCKS, withTransaction, type Pool } from './db';
import { ERR } from './errors';
import { diff } from './json-diff';

export type EntityType = 'flag' | 'segment' | 'experiment';
export type Queryable = Pick<PoolClient, 'query'>;

// Identifiers cannot be bound as parameters; they come from this fixed map only.
const TABLES: Record<EntityType, string> = { flag: 'flags', segment: 'segments', experiment: 'experiments' };

/** The PostgreSQL NOTIFY channel that fans changes out to every instance (SSE, caches). */
export const CHANGES_CHANNEL = 'xp_registry_changes';

export interface Stored<T> {
  key: string;
  version: number;
  doc: T;
  createdAt: string;
  updatedAt: string;
}

/** What clients see: the document plus its version and timestamps. */
export function present<T extends object>(
  s: Stored<T>,
): T & { version: number; createdAt: string; updatedAt: string } {
  return { ...s.doc, version: s.version, createdAt: s.createdAt, updatedAt: s.updatedAt };
}

interface Row {
  key: string;
  version: string;
  doc: unknown;
  created_at: Date;
  updated_at: Date;
}
const toStored = <T>(r: Row): Stored<T> => ({
  key: r.key,
  version: Number(r.version),
  doc: r.doc as T,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

export async function load<T>(
  q: Queryable,
  type: EntityType,
  key: string,
  opts: { lock?: boolean } = {},
): Promise<Stored<T> | null> {
  const { rows } = await q.query<Row>(
    `SELECT key, version, doc, created_at, updated_at FROM ${TABLES[type]} WHERE key = $1${opts.lock ? ' FOR UPDATE' : ''}`,
    [key],
  );
  return rows[0] ? toStored<T>(rows[0]) : null;
}

export async function loadOrThrow<T>(
  q: Queryable,
  type: EntityType,
  key: string,
  opts: { lock?: boolean } = {},
): Promise<Stored<T>> {
  const found = await load<T>(q, type, key, opts);
  if (!found) throw ERR.NOT_FOUND({ what: `${type} "${key}"` });
  return found;
}

export async function list<T>(q: Queryable, type: EntityType): Promise<Stored<T>[]> {
  const { rows } = await q.query<Row>(
    `SELECT key, version, doc, created_at, updated_at FROM ${TABLES[type]} ORDER BY key`,
  );
  return rows.map((r) => toStored<T>(r));
}

/**
 * Optimistic concurrency: a write names the version it read (If-Match or `version`). A
 * missing precondition is refused too, or two editors could still overwrite each other.
 */
export function checkVersion(current: Stored<unknown>, expected: number | undefined): void {
  if (expected === undefined) {
    throw ERR.PRECONDITION_REQUIRED({ key: current.key, version: current.version });
  }
  if (expected !== current.version) {
    throw ERR.VERSION_CONFLICT(
      { key: current.key, sent: expected, current: current.version },
      { currentVersion: current.version },
    );
  }
}

/**
 * Runs `change` in one transaction on the entity, locked and checked against the version the
 * client sent (If-Match). `versionOptional`: for changes the current state checks anyway
 * (lifecycle transitions, new phases), a missing version is accepted.
 */
export function changeLocked<T, R>(
  pool: Pool,
  type: EntityType,
  key: string,
  expected: number | undefined,
  change: (client: PoolClient, current: Stored<T>) => Promise<R>,
  opts: { versionOptional?: boolean } = {},
): Promise<R> {
  return withTransaction(pool, async (client) => {
    const current = await loadOrThrow<T>(client, type, key, { lock: true });
    if (!(opts.versionOptional && expected === undefined)) checkVersion(current, expected);
    return change(client, current);
  });
}

/** The subset of `keys` present in the entity type's table. */
export async function existingKeys(q: Queryable, type: EntityType, keys: string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const { rows } = await q.query<{ key: string }>(
    `SELECT key FROM ${TABLES[type]} WHERE key = ANY($1::text[])`,
    [keys],
  );
  return new Set(rows.map((r) => r.key));
}

export interface ChangeMeta {
  actor: string;
  action: string;
}

export async function insert<T extends object>(
  client: PoolClient,
  type: EntityType,
  key: string,
  doc: T,
  meta: ChangeMeta,
): Promise<Stored<T>> {
  const status = type === 'experiment' ? ((doc as { status?: string }).status ?? 'draft') : undefined;
  let rows: Row[];
  try {
    ({ rows } = await client.query<Row>(
      type === 'experiment'
        ? `INSERT INTO experiments (key, version, doc, status) VALUES ($1, 1, $2, $3) RETURNING key, version, doc, created_at, updated_at`
        : `INSERT INTO ${TABLES[type]} (key, version, doc) VALUES ($1, 1, $2) RETURNING key, version, doc, created_at, updated_at`,
      type === 'experiment' ? [key, doc, status] : [key, doc],
    ));
  } catch (err) {
    if ((err as { code?: string }).code === '23505') {
      throw ERR.ALREADY_EXISTS({ what: `${type} "${key}"` });
    }
    throw err;
  }
  const stored = toStored<T>(rows[0]!);
  await recordChange(client, type, null, stored, meta);
  return stored;
}

export async function update<T extends object>(
  client: PoolClient,
  type: EntityType,
  current: Stored<T>,
  doc: T,
  meta: ChangeMeta,
): Promise<Stored<T>> {
  const status = type === 'experiment' ? (doc as { status?: string }).status : undefined;
  const { rows } = await client.query<Row>(
    type === 'experiment'
      ? `UPDATE experiments SET doc = $2, version = version + 1, updated_at = now(), status = $3 WHERE key = $1
         RETURNING key, version, doc, created_at, updated_at`
      : `UPDATE ${TABLES[type]} SET doc = $2, version = version + 1, updated_at = now() WHERE key = $1
         RETURNING key, version, doc, created_at, updated_at`,
    type === 'experiment' ? [current.key, doc, status] : [current.key, doc],
  );
  const stored = toStored<T>(rows[0]!);
  await recordChange(client, type, current, stored, meta);
  return stored;
}

export async function remove(
  client: PoolClient,
  type: EntityType,
  current: Stored<object>,
  meta: ChangeMeta,
): Promise<void> {
  await client.query(`DELETE FROM ${TABLES[type]} WHERE key = $1`, [current.key]);
  await recordChange(client, type, current, null, meta);
}

/**
 * The audit entry, the outbox row (flags and experiments: the registry-changes topic's
 * schema has no segment type) and the NOTIFY for this change. Outbox inserts take a
 * transaction-scoped advisory lock first: sequence numbers are then handed out in commit
 * order, so the relay can never see sequence n+1 committed while n is still in flight.
 */
async function recordChange(
  client: PoolClient,
  type: EntityType,
  before: Stored<object> | null,
  after: Stored<object> | null,
  meta: ChangeMeta,
): Promise<void> {
  const key = (after ?? before)!.key;
  const beforeDoc = before ? present(before) : null;
  const afterDoc = after ? present(after) : null;
  const changes = diff(stripMeta(beforeDoc), stripMeta(afterDoc));
  await client.query(
    `INSERT INTO audit_log (entity_type, entity_key, action, actor, version, before, after, diff)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      type,
      key,
      meta.action,
      meta.actor,
      after?.version ?? null,
      beforeDoc,
      afterDoc,
      JSON.stringify(changes),
    ],
  );
  let sequence: number | null = null;
  if (type !== 'segment') {
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [...LOCKS.outboxWrite]);
    const { rows } = await client.query<{ sequence: string }>(
      `INSERT INTO outbox (entity_type, entity_key, version, action, actor, snapshot)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING sequence`,
      [type, key, after?.version ?? (before ? before.version + 1 : 0), meta.action, meta.actor, afterDoc],
    );
    sequence = Number(rows[0]!.sequence);
  }
  // Delivered to listeners only when the transaction commits.
  await client.query('SELECT pg_notify($1, $2)', [
    CHANGES_CHANNEL,
    JSON.stringify({ entityType: type, key, action: meta.action, sequence }),
  ]);
}

/** Timestamps and version change on every write; the diff shows what the user changed. */
function stripMeta(doc: Record<string, unknown> | null): Record<string, unknown> | null {
  if (!doc) return null;
  const { version: _v, createdAt: _c, updatedAt: _u, ...rest } = doc;
  return rest;
}
