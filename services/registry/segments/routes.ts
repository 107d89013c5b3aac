import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppDeps } from '../app';
import { keyParams, segmentBodySchema, type SegmentBody } from '../core/schemas';
import { authorize } from '../tokens/auth';
import { withTransaction } from '../core/db';
import { conflict } from '../core/errors';
import { conditionProblems } from '../flags/rules';
import { checkVersion, insert, list, loadOrThrow, present, remove, update } from '../core/entity-store';
import { failIfProblems, meta, versionOf, withEtag } from '../http/request';

const tags = ['segments'];

function check(segment: SegmentBody): void {
  failIfProblems(
    'segment',
    segment.conditions.flatMap((c, i) => conditionProblems(c, `conditions.${i}`)),
  );
}

export function segmentRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { pool } = deps;
  const read = authorize(deps.tokens, 'read');
  const write = authorize(deps.tokens, 'write');

  app.get('/v1/segments', { onRequest: read, schema: { tags, summary: 'List segments' } }, async () => ({
    segments: (await list<SegmentBody>(pool, 'segment')).map(present),
  }));

  app.post(
    '/v1/segments',
    { onRequest: write, schema: { tags, summary: 'Create a segment', body: segmentBodySchema } },
    async (request, reply) => {
      const body = request.body as SegmentBody;
      check(body);
      const stored = await withTransaction(pool, (client) =>
        insert(client, 'segment', body.key, body, meta(request, 'created')),
      );
      return withEtag(reply, stored).code(201).send(present(stored));
    },
  );

  app.get(
    '/v1/segments/:key',
    { onRequest: read, schema: { tags, summary: 'Get a segment', params: keyParams } },
    async (request, reply) => {
      const stored = await loadOrThrow<SegmentBody>(pool, 'segment', (request.params as { key: string }).key);
      return withEtag(reply, stored).send(present(stored));
    },
  );

  app.put(
    '/v1/segments/:key',
    {
      onRequest: write,
      schema: {
        tags,
        summary: 'Replace a segment (If-Match: its version)',
        params: keyParams,
        body: segmentBodySchema.extend({ version: z.number().int().min(1).optional() }),
      },
    },
    async (request, reply) => {
      const { key } = request.params as { key: string };
      const { version: _v, ...body } = request.body as SegmentBody & { version?: number };
      if (body.key !== key)
        failIfProblems('segment', [{ path: 'key', message: `must equal the URL's key "${key}"` }]);
      check(body);
      const expected = versionOf(request);
      const stored = await withTransaction(pool, async (client) => {
        const current = await loadOrThrow<SegmentBody>(client, 'segment', key, { lock: true });
        checkVersion(current, expected);
        return update(client, 'segment', current, body, meta(request, 'updated'));
      });
      return withEtag(reply, stored).send(present(stored));
    },
  );

  app.delete(
    '/v1/segments/:key',
    { onRequest: write, schema: { tags, summary: 'Delete an unused segment', params: keyParams } },
    async (request, reply) => {
      const { key } = request.params as { key: string };
      const expected = versionOf(request);
      await withTransaction(pool, async (client) => {
        const current = await loadOrThrow<SegmentBody>(client, 'segment', key, { lock: true });
        checkVersion(current, expected);
        const { rows } = await client.query<{ key: string }>(
          `SELECT key FROM flags f WHERE EXISTS (
             SELECT 1 FROM jsonb_each(f.doc->'environments') e, jsonb_array_elements(e.value->'rules') r
             WHERE r->'segments' ? $1)
           UNION SELECT key FROM experiments WHERE doc->'targeting'->'segments' ? $1 AND status <> 'archived'`,
          [key],
        );
        if (rows.length > 0) {
          throw conflict('in_use', `segment "${key}" is still used by ${rows.map((r) => r.key).join(', ')}`);
        }
        await remove(client, 'segment', current, meta(request, 'deleted'));
      });
      return reply.code(204).send();
    },
  );
}
