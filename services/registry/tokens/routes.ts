// Token routes (admin only): list, create (the secret is in the answer only), revoke.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { FeatureDeps } from '../http/feature';
import { authorize, principalOf } from './auth';
import { tokenBodySchema } from './model';
import { createToken, revoke } from './service';
import { listTokens } from './store';

const tags = ['tokens'];

export const tokensPlugin: FastifyPluginAsync<FeatureDeps> = async (app, deps) => {
  const admin = authorize(deps.tokens, 'admin');
  const { pool } = deps;

  app.get(
    '/v1/tokens',
    { onRequest: admin, schema: { tags, summary: 'List API tokens (never the secrets)' } },
    async () => ({ tokens: await listTokens(pool) }),
  );

  app.post(
    '/v1/tokens',
    {
      onRequest: admin,
      schema: { tags, summary: 'Create a token; the secret is in this response only', body: tokenBodySchema },
    },
    async (request, reply) => {
      const body = request.body as z.infer<typeof tokenBodySchema>;
      return reply.code(201).send(await createToken(pool, body, principalOf(request)));
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
      await revoke(pool, deps.tokens, id);
      return reply.code(204).send();
    },
  );
};
