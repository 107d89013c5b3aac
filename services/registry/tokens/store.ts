// Persistence of API tokens (SHA-256 of the secret at rest) and the cached lookup every request
// goes through.

import type { Pool } from '../core/db';
import type { Queryable } from '../core/entity-store';
import { hashToken, type TokenLookup } from './auth';
import type { IdentityKind, Principal, Role } from './model';

export const BOOTSTRAP_TOKEN_NAME = 'bootstrap-admin';

/**
 * Looks tokens up by their SHA-256 hash. Results are cached for `cacheMs` so the SDK
 * endpoints do not pay a query per request; a revoked token therefore stops working within
 * `cacheMs` on other instances (immediately on the instance that revoked it).
 */
export class TokenStore implements TokenLookup {
  private readonly cache = new Map<string, { principal: Principal | null; until: number }>();

  constructor(
    private readonly pool: Pool,
    private readonly cacheMs: number,
  ) {}

  async lookup(token: string): Promise<Principal | null> {
    const hash = hashToken(token);
    const now = Date.now();
    const hit = this.cache.get(hash);
    if (hit && hit.until > now) return hit.principal;
    const { rows } = await this.pool.query<Principal>(
      'SELECT name, identity, kind, role FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL',
      [hash],
    );
    const principal = rows[0] ?? null;
    if (this.cacheMs > 0) {
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(hash, { principal, until: now + this.cacheMs });
    }
    return principal;
  }

  invalidate(): void {
    this.cache.clear();
  }

  /** The local-stack bootstrap admin: created, or re-keyed when the configured token changed. */
  async ensureBootstrap(token: string): Promise<void> {
    await this.pool.query(
      `INSERT INTO api_tokens (name, identity, kind, role, token_hash, created_by)
       VALUES ($1, $1, 'service', 'admin', $2, 'bootstrap')
       ON CONFLICT (name) DO UPDATE SET token_hash = EXCLUDED.token_hash, role = 'admin', revoked_at = NULL`,
      [BOOTSTRAP_TOKEN_NAME, hashToken(token)],
    );
  }
}

export interface TokenInfo {
  id: number;
  name: string;
  identity: string;
  kind: string;
  role: string;
  createdBy: string;
  createdAt: string;
  revokedAt: string | null;
}

export async function listTokens(q: Queryable): Promise<TokenInfo[]> {
  const { rows } = await q.query<{
    id: string;
    name: string;
    identity: string;
    kind: string;
    role: string;
    created_by: string;
    created_at: Date;
    revoked_at: Date | null;
  }>('SELECT id, name, identity, kind, role, created_by, created_at, revoked_at FROM api_tokens ORDER BY id');
  return rows.map((r) => ({
    id: Number(r.id),
    name: r.name,
    identity: r.identity,
    kind: r.kind,
    role: r.role,
    createdBy: r.created_by,
    createdAt: r.created_at.toISOString(),
    revokedAt: r.revoked_at?.toISOString() ?? null,
  }));
}

/**
 * Inserts a token unless its identity exists as the other kind (then null). A name that is
 * taken fails with PostgreSQL's unique violation (23505).
 */
export async function insertToken(
  q: Queryable,
  t: { name: string; identity: string; kind: IdentityKind; role: Role; tokenHash: string; createdBy: string },
): Promise<number | null> {
  const { rows } = await q.query<{ id: string }>(
    // One identity is one kind: a person's tokens cannot make them a service, or back.
    `INSERT INTO api_tokens (name, identity, kind, role, token_hash, created_by)
     SELECT $1, $2, $3, $4, $5, $6
     WHERE NOT EXISTS (SELECT 1 FROM api_tokens WHERE identity = $2 AND kind <> $3)
     RETURNING id`,
    [t.name, t.identity, t.kind, t.role, t.tokenHash, t.createdBy],
  );
  return rows[0] ? Number(rows[0].id) : null;
}

/** Revokes an active token; false when there is none with this id. */
export async function revokeToken(q: Queryable, id: number): Promise<boolean> {
  const { rowCount } = await q.query(
    'UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL',
    [id],
  );
  return Boolean(rowCount);
}

/** Whether an identity holds a token (owners of experiments and ideas must). */
export async function identityExists(q: Queryable, identity: string): Promise<boolean> {
  const { rowCount } = await q.query('SELECT 1 FROM api_tokens WHERE identity = $1 LIMIT 1', [identity]);
  return Boolean(rowCount);
}
