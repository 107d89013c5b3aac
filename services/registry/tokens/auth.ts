import { createHash, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Role } from '../core/schemas';
import type { Pool } from '../core/db';
import { HttpError } from '../core/errors';

/** Whether an identity is a person (may approve) or a service (SDK back ends, automation). */
export type IdentityKind = 'person' | 'service';

/**
 * Who made a request: the token's name, and the identity (person or service) the token
 * belongs to. The identity is the actor recorded in the log and compared by approval guards.
 */
export interface Principal {
  /** The token's own name (one identity may hold several tokens). */
  name: string;
  identity: string;
  kind: IdentityKind;
  role: Role;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/**
 * Access levels of the API. Roles are ordered viewer < editor < admin; `sdk` tokens are
 * separate: they may only fetch payloads, stream and evaluate (safe to ship in a back end).
 */
export type Access = 'read' | 'write' | 'admin' | 'sdk';
const ALLOWED: Record<Access, readonly Role[]> = {
  read: ['viewer', 'editor', 'admin'],
  write: ['editor', 'admin'],
  admin: ['admin'],
  sdk: ['sdk', 'viewer', 'editor', 'admin'],
};

export const BOOTSTRAP_TOKEN_NAME = 'bootstrap-admin';

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** 256 random bits; the `xp_` prefix lets secret scanners recognise leaked tokens. */
export function generateToken(): string {
  return `xp_${randomBytes(32).toString('base64url')}`;
}

/**
 * Looks tokens up by their SHA-256 hash. Results are cached for `cacheMs` so the SDK
 * endpoints do not pay a query per request; a revoked token therefore stops working within
 * `cacheMs` on other instances (immediately on the instance that revoked it).
 */
export class TokenStore {
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

/** A Fastify onRequest hook admitting tokens whose role has `access`. */
export function authorize(store: TokenStore, access: Access) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const header = request.headers.authorization;
    if (!header) {
      throw new HttpError(
        401,
        'unauthorized',
        'missing API token: send the header "Authorization: Bearer <token>"',
      );
    }
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) {
      throw new HttpError(401, 'unauthorized', 'malformed Authorization header: expected "Bearer <token>"');
    }
    const principal = await store.lookup(match[1]!);
    if (!principal) throw new HttpError(401, 'unauthorized', 'unknown or revoked API token');
    if (!ALLOWED[access].includes(principal.role)) {
      throw new HttpError(
        403,
        'forbidden',
        `token "${principal.name}" has role ${principal.role}; this operation needs one of: ${ALLOWED[access].join(', ')}`,
      );
    }
    request.principal = principal;
  };
}

/** The authenticated caller; routes behind `authorize` always have one. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new HttpError(401, 'unauthorized', 'not authenticated');
  return request.principal;
}
