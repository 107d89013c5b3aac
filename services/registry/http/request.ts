import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { principalOf } from '../tokens/auth';
import type { PoolClient } from '../core/db';
import { badRequest, type FieldProblem } from '../core/errors';
import { expectedVersion, type ChangeMeta, type Stored } from '../core/entity-store';

/** The ETag of an entity is its version; If-Match sends it back on writes. */
export function withEtag<T extends object>(reply: FastifyReply, stored: Stored<T>): FastifyReply {
  return reply.header('etag', `"${stored.version}"`);
}

export function meta(request: FastifyRequest, action: string): ChangeMeta {
  return { actor: principalOf(request).identity, action };
}

export function versionOf(request: FastifyRequest): number | undefined {
  const body = request.body as { version?: number } | undefined;
  return expectedVersion(request.headers['if-match'], body?.version);
}

export function failIfProblems(what: string, problems: FieldProblem[]): void {
  if (problems.length > 0) {
    throw badRequest(
      `invalid ${what}: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
      problems,
    );
  }
}

/** The subset of `keys` present in `table` (a fixed identifier, never user input). */
export async function existingKeys(
  client: Pick<PoolClient, 'query'>,
  table: 'flags' | 'segments' | 'experiments',
  keys: string[],
): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const { rows } = await client.query<{ key: string }>(
    `SELECT key FROM ${table} WHERE key = ANY($1::text[])`,
    [keys],
  );
  return new Set(rows.map((r) => r.key));
}

export const errorBody = z.object({
  error: z.string(),
  message: z.string(),
  details: z.unknown().optional(),
});
export const ifMatchHeader = z.object({ 'if-match': z.string().optional() });
