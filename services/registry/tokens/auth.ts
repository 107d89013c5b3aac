// Authentication and authorisation of API requests: the bearer token names a principal (looked
// up by the token store), and each route admits the roles of its access level.

import { createHash, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ERR } from '../core/errors';
import type { Principal, Role } from './model';

export type { IdentityKind, Principal } from './model';

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

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** 256 random bits; the `xp_` prefix lets secret scanners recognise leaked tokens. */
export function generateToken(): string {
  return `xp_${randomBytes(32).toString('base64url')}`;
}

/** Finds the principal a token stands for (tokens/store.ts TokenStore). */
export interface TokenLookup {
  lookup(token: string): Promise<Principal | null>;
}

/** A Fastify onRequest hook admitting tokens whose role has `access`. */
export function authorize(store: TokenLookup, access: Access) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const header = request.headers.authorization;
    if (!header) throw ERR.TOKEN_MISSING();
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw ERR.TOKEN_MALFORMED();
    const principal = await store.lookup(match[1]!);
    if (!principal) throw ERR.TOKEN_UNKNOWN();
    if (!ALLOWED[access].includes(principal.role)) {
      throw ERR.FORBIDDEN({
        name: principal.name,
        role: principal.role,
        allowed: ALLOWED[access].join(', '),
      });
    }
    request.principal = principal;
  };
}

/** The authenticated caller; routes behind `authorize` always have one. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw ERR.UNAUTHENTICATED();
  return request.principal;
}
