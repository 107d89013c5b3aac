// Experiment routes: list, create, read, edit, lifecycle transitions, new phases, the log and
// the brief.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { queryAudit } from '../audit/store';
import { loadOrThrow, present } from '../core/entity-store';
import { keyParams } from '../core/schemas';
import type { FeatureDeps } from '../http/feature';
import { versionOf, withEtag } from '../http/request';
import { authorize, principalOf } from '../tokens/auth';
import { renderBrief } from './brief';
import {
  EXPERIMENT_STATUSES,
  experimentBodySchema,
  experimentPatchSchema,
  newPhaseSchema,
  transitionSchema,
  type Experiment,
  type ExperimentBody,
  type ExperimentVariant,
} from './model';
import {
  createExperiment,
  experimentFor,
  listExperiments,
  newPhase,
  patchExperiment,
  transition,
  type TransitionRequest,
} from './service';

const tags = ['experiments'];

export const experimentsPlugin: FastifyPluginAsync<FeatureDeps> = async (app, deps) => {
  const { pool, environments } = deps;
  const read = authorize(deps.tokens, 'read');
  const write = authorize(deps.tokens, 'write');

  app.get(
    '/v1/experiments',
    {
      onRequest: read,
      schema: {
        tags,
        summary:
          'List experiments, each with its health from the latest results summary (SRM, guardrails, multiple exposures, power, no data)',
        querystring: z.object({ status: z.enum(EXPERIMENT_STATUSES).optional() }),
      },
    },
    async (request) => {
      const { status } = request.query as { status?: string };
      return { experiments: await listExperiments(pool, status) };
    },
  );

  app.post(
    '/v1/experiments',
    {
      onRequest: write,
      schema: { tags, summary: 'Create an experiment (as a draft)', body: experimentBodySchema },
    },
    async (request, reply) => {
      const body = request.body as ExperimentBody;
      const stored = await createExperiment(pool, body, environments, principalOf(request).identity);
      return withEtag(reply, stored).code(201).send(present(stored));
    },
  );

  app.get(
    '/v1/experiments/:key',
    {
      onRequest: read,
      schema: {
        tags,
        summary:
          'Get an experiment, with allowedTransitions: each next status and the guards the caller does not meet now',
        params: keyParams,
      },
    },
    async (request, reply) => {
      const { key } = request.params as { key: string };
      const { stored, allowedTransitions } = await experimentFor(pool, key, principalOf(request));
      return withEtag(reply, stored).send({ ...present(stored), allowedTransitions });
    },
  );

  app.patch(
    '/v1/experiments/:key',
    {
      onRequest: write,
      schema: {
        tags,
        summary: 'Edit definition fields (If-Match: its version); the lifecycle freezes some',
        params: keyParams,
        body: experimentPatchSchema,
      },
    },
    async (request, reply) => {
      const { key } = request.params as { key: string };
      const { version: _v, ...patch } = request.body as Partial<ExperimentBody> & { version?: number };
      const expected = versionOf(request);
      const stored = await patchExperiment(
        pool,
        key,
        patch,
        expected,
        environments,
        principalOf(request).identity,
      );
      return withEtag(reply, stored).send(present(stored));
    },
  );

  app.post(
    '/v1/experiments/:key/transitions',
    {
      onRequest: write,
      schema: {
        tags,
        summary: 'Move through the lifecycle; 409 lists every unmet guard',
        params: keyParams,
        body: transitionSchema,
      },
    },
    async (request, reply) => {
      const { key } = request.params as { key: string };
      const body = request.body as TransitionRequest & { version?: number };
      const stored = await transition(pool, key, body, versionOf(request), principalOf(request));
      return withEtag(reply, stored).send(present(stored));
    },
  );

  app.post(
    '/v1/experiments/:key/phases',
    {
      onRequest: write,
      schema: {
        tags,
        summary: 'Start a new phase of a running experiment (new variants/weights, re-randomised)',
        params: keyParams,
        body: newPhaseSchema,
      },
    },
    async (request, reply) => {
      const { key } = request.params as { key: string };
      const body = request.body as {
        reason: string;
        variants?: ExperimentVariant[];
        trafficCoverage?: number;
      };
      const stored = await newPhase(pool, key, body, versionOf(request), principalOf(request));
      return withEtag(reply, stored).code(201).send(present(stored));
    },
  );

  app.get(
    '/v1/experiments/:key/log',
    {
      onRequest: read,
      schema: { tags, summary: "The experiment's log entries, newest first", params: keyParams },
    },
    async (request) => {
      const { key } = request.params as { key: string };
      await loadOrThrow(pool, 'experiment', key);
      return { entries: await queryAudit(pool, { entityType: 'experiment', key, limit: 1000 }) };
    },
  );

  app.get(
    '/v1/experiments/:key/brief',
    { onRequest: read, schema: { tags, summary: 'The experiment brief as Markdown', params: keyParams } },
    async (request, reply) => {
      const { key } = request.params as { key: string };
      const stored = await loadOrThrow<Experiment>(pool, 'experiment', key);
      const history = await queryAudit(pool, { entityType: 'experiment', key, limit: 1000 });
      return reply.type('text/markdown; charset=utf-8').send(renderBrief(stored.doc, history));
    },
  );
};
