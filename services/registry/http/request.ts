// What route handlers read from a request and write on a reply, shared by the feature plugins.

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Stored } from '../core/entity-store';
import { ERR, failIfProblems } from '../core/errors';

/** The ETag of an entity is its version; If-Match sends it back on writes. */
export function withEtag<T extends object>(reply: FastifyReply, stored: Stored<T>): FastifyReply {
  return reply.header('etag', `"${stored.version}"`);
}

/** The version the caller read: If-Match, else the body's `version`. */
export function versionOf(request: FastifyRequest): number | undefined {
  const body = request.body as { version?: number } | undefined;
  return expectedVersion(request.headers['if-match'], body?.version);
}

/** The expected version from `If-Match: "3"` (or W/"3"), else from the body's `version`. */
export function expectedVersion(
  ifMatch: string | string[] | undefined,
  bodyVersion?: number,
): number | undefined {
  const header = Array.isArray(ifMatch) ? ifMatch[0] : ifMatch;
  if (header !== undefined) {
    const m = /^(?:W\/)?"?(\d+)"?$/.exec(header.trim());
    if (!m) throw ERR.INVALID_IF_MATCH();
    return Number(m[1]);
  }
  return bodyVersion;
}

/** A PUT replaces the entity at its URL: the body's key must be the URL's. */
export function bodyKeyMatches(what: string, urlKey: string, bodyKey: string): void {
  if (bodyKey !== urlKey)
    failIfProblems(what, [{ path: 'key', message: `must equal the URL's key "${urlKey}"` }]);
}
