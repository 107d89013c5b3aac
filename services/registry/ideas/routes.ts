// The ideas backlog's HTTP routes, as a Fastify plugin: list (scored, sorted), create, read,
// edit and delete with optimistic concurrency, promote to a draft experiment, and the idea's log.
import type { FastifyPluginAsync } from 'fastify';
import { queryAudit } from '../audit/store';
import { withTransaction } from '../core/db';
import { checkVersion, present } from '../core/entity-store';
import { keyParams } from '../core/schemas';
import type { Experiment } from '../experiments/model';
import type { FeatureDeps } from '../http/feature';
import { expectedVersion } from '../http/request';
import { authorize, principalOf } from '../tokens/auth';
import {
  ideaBodySchema,
  ideaPatchSchema,
  listQuerySchema,
  presentIdea,
  promoteSchema,
  sortIdeas,
  type IdeaBody,
  type IdeaPatch,
  type PromoteRequest,
  SORTS,
} from './model';
import { describeScoring } from './scoring';
import { createIdea, editIdea, promoteIdea } from './service';
import { deleteIdea, listIdeas, loadIdea } from './store';
import type { IdeasSettings } from './settings';

export interface IdeasDeps extends FeatureDeps {
  settings: IdeasSettings;
}

const tags = ['ideas'];

export const ideasPlugin: FastifyPluginAsync<IdeasDeps> = async (app, deps) => {
  const { pool } = deps;
  const weights = deps.settings.REGISTRY_IDEA_WEIGHTS;
  const read = authorize(deps.tokens, 'read');
  const write = authorize(deps.tokens, 'write');
  const versionOf = (headers: Record<string, unknown>, body: unknown) =>
    expectedVersion(
      headers['if-match'] as string | undefined,
      (body as { version?: number } | undefined)?.version,
    );

  app.get(
    '/v1/ideas',
    {
      onRequest: read,
      schema: {
        tags,
        summary: `The ideas backlog with ICE scores; sort by ${SORTS.join(', ')} (score, highest first, by default)`,
        querystring: listQuerySchema,
      },
    },
    async (request) => {
      const q = request.query as { status?: string; sort: (typeof SORTS)[number]; order?: 'asc' | 'desc' };
      const ideas = (await listIdeas(pool, q.status)).map((s) => presentIdea(s, weights));
      return { ideas: sortIdeas(ideas, q.sort, q.order), scoring: describeScoring(weights) };
    },
  );

  app.get(
    '/v1/ideas/scoring',
    { onRequest: read, schema: { tags, summary: 'The scoring method and its configured weights' } },
    async () => describeScoring(weights),
  );

  app.post(
    '/v1/ideas',
    { onRequest: write, schema: { tags, summary: 'Add an idea to the backlog', body: ideaBodySchema } },
    async (request, reply) => {
      const stored = await withTransaction(pool, (client) =>
        createIdea(client, request.body as IdeaBody, principalOf(request)),
      );
      return reply.header('etag', `"${stored.version}"`).code(201).send(presentIdea(stored, weights));
    },
  );

  app.get(
    '/v1/ideas/:key',
    { onRequest: read, schema: { tags, summary: 'Get an idea', params: keyParams } },
    async (request, reply) => {
      const stored = await loadIdea(pool, (request.params as { key: string }).key);
      return reply.header('etag', `"${stored.version}"`).send(presentIdea(stored, weights));
    },
  );

  app.patch(
    '/v1/ideas/:key',
    {
      onRequest: write,
      schema: {
        tags,
        summary: 'Edit an idea, or discard/reopen it (If-Match: its version)',
        params: keyParams,
        body: ideaPatchSchema,
      },
    },
    async (request, reply) => {
      const { key } = request.params as { key: string };
      const { version: _v, ...patch } = request.body as IdeaPatch;
      const expected = versionOf(request.headers, request.body);
      const stored = await withTransaction(pool, async (client) => {
        const current = await loadIdea(client, key, { lock: true });
        checkVersion(current, expected);
        return editIdea(client, current, patch, principalOf(request));
      });
      return reply.header('etag', `"${stored.version}"`).send(presentIdea(stored, weights));
    },
  );

  app.delete(
    '/v1/ideas/:key',
    {
      onRequest: write,
      schema: { tags, summary: 'Delete an idea (If-Match: its version)', params: keyParams },
    },
    async (request, reply) => {
      const { key } = request.params as { key: string };
      const expected = versionOf(request.headers, undefined);
      await withTransaction(pool, async (client) => {
        const current = await loadIdea(client, key, { lock: true });
        checkVersion(current, expected);
        await deleteIdea(client, current, { actor: principalOf(request).identity, action: 'deleted' });
      });
      return reply.code(204).send();
    },
  );

  app.post(
    '/v1/ideas/:key/promote',
    {
      onRequest: write,
      schema: {
        tags,
        summary: 'Turn an open idea into a draft experiment (owner, hypothesis and links carried over)',
        params: keyParams,
        body: promoteSchema,
      },
    },
    async (request, reply) => {
      const { key } = request.params as { key: string };
      const body = (request.body ?? {}) as PromoteRequest;
      const expected = versionOf(request.headers, body);
      const { idea, experiment } = await withTransaction(pool, async (client) => {
        const current = await loadIdea(client, key, { lock: true });
        // Optional, as for transitions: promotion is checked against the current state anyway.
        if (expected !== undefined) checkVersion(current, expected);
        return promoteIdea(client, current, body, principalOf(request), deps.environments, weights);
      });
      return reply
        .code(201)
        .header('location', `/v1/experiments/${experiment.key}`)
        .send({ idea: presentIdea(idea, weights), experiment: present<Experiment>(experiment) });
    },
  );

  app.get(
    '/v1/ideas/:key/log',
    { onRequest: read, schema: { tags, summary: "The idea's log entries, newest first", params: keyParams } },
    async (request) => {
      const { key } = request.params as { key: string };
      await loadIdea(pool, key);
      return { entries: await queryAudit(pool, { entityType: 'idea', key, limit: 1000 }) };
    },
  );
};
