// API tokens and the identities they belong to.

import { z } from 'zod';
import { identityName } from '../core/schemas';

export const ROLES = ['viewer', 'editor', 'admin', 'sdk'] as const;
export type Role = (typeof ROLES)[number];

export const tokenBodySchema = z.strictObject({
  name: identityName,
  role: z.enum(ROLES),
  /** The person or service the token belongs to; the token's name when absent. */
  identity: identityName.optional(),
  /** person (may approve) or service; sdk tokens are always services. */
  kind: z.enum(['person', 'service']).optional(),
});

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
