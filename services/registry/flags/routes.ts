// Flag routes: list, create, read, replace, change one environment (the kill switch), delete.
import type { FastifyPluginAsync } from 'fastify';
import type { Flag, FlagEnvironment } from '@xp-platform/evaluation';
import { z } from 'zod';
import { list, loadOrThrow, present } from '../core/entity-store';
import { entityKey, keyParams } from '../core/schemas';
import type { FeatureDeps } from '../http/feature';
import { bodyKeyMatches, versionOf, withEtag } from '../http/request';
import { authorize, principalOf } from '../tokens/auth';
import { FLAG_TYPES, flagBodySchema, flagEnvironmentPatchSchema, type FlagBody } from './model';
import { changeEnvironment, createFlag, deleteFlag, replaceFlag } from './service';

const tags = ['flags'];

export const flagsPlugin: FastifyPluginAsync<FeatureDeps> = async (app, deps) => {
  const { pool, environments } = deps;
  const read = authorize(deps.tokens, 'read');
  const write = authorize(deps.tokens, 'write');

  app.get(
    '/v1/flags',
    {
      onRequest: read,
      schema: {
        tags,
        summary: 'List flags',
        querystring: z.object({ tag: z.string().optional(), type: z.enum(FLAG_TYPES).optional() }),
      },
    },
    async (request) => {
      const q = request.query as { tag?: string; type?: string };
      const flags = (await list<Flag>(pool, 'flag')).filter(
        (f) => (!q.tag || f.doc.tags.includes(q.tag)) && (!q.type || f.doc.type === q.type),
      );
      return { flags: flags.map(present) };
    },
  );

  app.post(
    '/v1/flags',
    { onRequest: write, schema: { tags, summary: 'Create a flag', body: flagBodySchema } },
    async (request, reply) => {
      const stored = await createFlag(
        pool,
        request.body as FlagBody,
        environments,
        principalOf(request).identity,
      );
      return withEtag(reply, stored).code(201).send(present(stored));
    },
  );

  app.get(
    '/v1/flags/:key',
    { onRequest: read, schema: { tags, summary: 'Get a flag', params: keyParams } },
    async (request, reply) => {
      const { key } = request.params as { key: string };
      const stored = await loadOrThrow<Flag>(pool, 'flag', key);
      return withEtag(reply, stored).send(present(stored));
    },
  );

  app.put(
    '/v1/flags/:key',
    {
      onRequest: write,
      schema: {
        tags,
        summary: 'Replace a flag (If-Match: its version)',
        params: keyParams,
        body: flagBodySchema.extend({ version: z.number().int().min(1).optional() }),
      },
    },
    async (request, reply) => {
      const { key } = request.params as { key: string };
      const { version: _v, ...body } = request.body as FlagBody & { version?: number };
      bodyKeyMatches('flag', key, body.key);
      const expected = versionOf(request);
      const stored = await replaceFlag(
        pool,
        key,
        body,
        expected,
        environments,
        principalOf(request).identity,
      );
      return withEtag(reply, stored).send(present(stored));
    },
  );

  app.patch(
    '/v1/flags/:key/environments/:environment',
    {
      onRequest: write,
      schema: {
        tags,
        summary: 'Change one environment: enabled (the kill switch), values, rules',
        params: z.strictObject({ key: entityKey, environment: z.string().min(1) }),
        body: flagEnvironmentPatchSchema,
      },
    },
    async (request, reply) => {
      const { key, environment } = request.params as { key: string; environment: string };
      const { version: _v, ...patch } = request.body as Partial<FlagEnvironment> & { version?: number };
      const expected = versionOf(request);
      const stored = await changeEnvironment(
        pool,
        key,
        environment,
        patch,
        expected,
        environments,
        principalOf(request).identity,
      );
      return withEtag(reply, stored).send(present(stored));
    },
  );

  app.delete(
    '/v1/flags/:key',
    {
      onRequest: write,
      schema: { tags, summary: 'Delete a flag (If-Match: its version)', params: keyParams },
    },
    async (request, reply) => {
      const { key } = request.params as { key: string };
      await deleteFlag(pool, key, versionOf(request), principalOf(request).identity);
      return reply.code(204).send();
    },
  );
};
