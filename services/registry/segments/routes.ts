// Segment routes: list, create, read, replace, delete.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { list, loadOrThrow, present } from '../core/entity-store';
import { keyParams } from '../core/schemas';
import type { FeatureDeps } from '../http/feature';
import { bodyKeyMatches, versionOf, withEtag } from '../http/request';
import { authorize, principalOf } from '../tokens/auth';
import { segmentBodySchema, type SegmentBody } from './model';
import { checkSegment, createSegment, deleteSegment, replaceSegment } from './service';

const tags = ['segments'];

export const segmentsPlugin: FastifyPluginAsync<FeatureDeps> = async (app, deps) => {
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
      const stored = await createSegment(pool, request.body as SegmentBody, principalOf(request).identity);
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
      bodyKeyMatches('segment', key, body.key);
      checkSegment(body);
      const expected = versionOf(request);
      const stored = await replaceSegment(pool, key, body, expected, principalOf(request).identity);
      return withEtag(reply, stored).send(present(stored));
    },
  );

  app.delete(
    '/v1/segments/:key',
    { onRequest: write, schema: { tags, summary: 'Delete an unused segment', params: keyParams } },
    async (request, reply) => {
      const { key } = request.params as { key: string };
      await deleteSegment(pool, key, versionOf(request), principalOf(request).identity);
      return reply.code(204).send();
    },
  );
};
