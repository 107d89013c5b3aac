// Token management: creation (the secret is returned once, stored as its hash) and revocation.

import type { Pool } from '../core/db';
import { ERR } from '../core/errors';
import { generateToken, hashToken } from './auth';
import type { IdentityKind, Principal, Role } from './model';
import { insertToken, revokeToken, type TokenStore } from './store';

export interface TokenRequest {
  name: string;
  role: Role;
  identity?: string;
  kind?: IdentityKind;
}

export async function createToken(pool: Pool, body: TokenRequest, by: Principal) {
  const { name, role } = body;
  const identity = body.identity ?? name;
  if (role === 'sdk' && body.kind === 'person') {
    throw ERR.SDK_TOKEN_KIND(undefined, [{ path: 'kind', message: 'must be service for role sdk' }]);
  }
  const kind = body.kind ?? (role === 'sdk' ? 'service' : 'person');
  const token = generateToken();
  let id: number | null;
  try {
    id = await insertToken(pool, {
      name,
      identity,
      kind,
      role,
      tokenHash: hashToken(token),
      createdBy: by.identity,
    });
  } catch (err) {
    if ((err as { code?: string }).code === '23505') throw ERR.TOKEN_NAME_TAKEN({ name });
    throw err;
  }
  if (id === null) throw ERR.IDENTITY_KIND({ identity, kind });
  return { id, name, identity, kind, role, token };
}

export async function revoke(pool: Pool, tokens: TokenStore, id: number): Promise<void> {
  if (!(await revokeToken(pool, id))) throw ERR.NOT_FOUND({ what: `active token ${id}` });
  tokens.invalidate();
}
