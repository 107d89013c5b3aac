import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppDeps } from '../app';
import { tokenBodySchema } from '../core/schemas';
import { authorize, generateToken, hashToken, principalOf } from './auth';
import { badRequest, conflict, notFound } from '../core/errors';

const tags = ['tokens'];

export function tokenRoutes(app: FastifyInstance, deps: AppDeps): void {
  const admin = authorize(deps.tokens, 'admin');
  const { pool } = deps;

  app.get(
    '/v1/tokens',
    { onRequest: admin, schema: { tags, summary: 'List API tokens (never the secrets)' } },
    async () => {
      const { rows } = await pool.query<{
        id: string;
        name: string;
        identity: string;
        kind: string;
        role: string;
        created_by: string;
        created_at: Date;
        revoked_at: Date | null;
      }>(
        'SELECT id, name, identity, kind, role, created_by, created_at, revoked_at FROM api_tokens ORDER BY id',
      );
      return {
        tokens: rows.map((r) => ({
          id: Number(r.id),
          name: r.name,
          identity: r.identity,
          kind: r.kind,
          role: r.role,
          createdBy: r.created_by,
          createdAt: r.created_at.toISOString(),
          revokedAt: r.revoked_at?.toISOString() ?? null,
        })),
      };
    },
  );

  app.post(
    '/v1/tokens',
    {
      onRequest: admin,
      schema: { tags, summary: 'Create a token; the secret is in this response only', body: tokenBodySchema },
    },
    async (request, reply) => {
      const body = request.body as z.infer<typeof tokenBodySchema>;
      const { name, role } = body;
      const identity = body.identity ?? name;
      if (role === 'sdk' && body.kind === 'person') {
        throw badRequest('an sdk token belongs to a service', [
          { path: 'kind', message: 'must be service for role sdk' },
        ]);
      }
      const kind = body.kind ?? (role === 'sdk' ? 'service' : 'person');
      const token = generateToken();
      try {
        const { rows } = await pool.query<{ id: string }>(
          // One identity is one kind: a person's tokens cannot make them a service, or back.
          `INSERT INTO api_tokens (name, identity, kind, role, token_hash, created_by)
           SELECT $1, $2, $3, $4, $5, $6
           WHERE NOT EXISTS (SELECT 1 FROM api_tokens WHERE identity = $2 AND kind <> $3)
           RETURNING id`,
          [name, identity, kind, role, hashToken(token), principalOf(request).identity],
        );
        if (rows.length === 0) {
          throw conflict('identity_kind', `identity "${identity}" exists as another kind than ${kind}`);
        }
        return reply.code(201).send({ id: Number(rows[0]!.id), name, identity, kind, role, token });
      } catch (err) {
        if ((err as { code?: string }).code === '23505')
          throw conflict('already_exists', `a token named "${name}" exists`);
        throw err;
      }
    },
  );

  app.delete(
    '/v1/tokens/:id',
    {
      onRequest: admin,
      schema: {
        tags,
        summary: 'Revoke a token',
        params: z.strictObject({ id: z.coerce.number().int().positive() }),
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: number };
      const { rowCount } = await pool.query(
        'UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL',
        [id],
      );
      if (!rowCount) throw notFound(`active token ${id}`);
      deps.tokens.invalidate();
      return reply.code(204).send();
    },
  );
}
