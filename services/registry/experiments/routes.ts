import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppDeps } from '../app';
import {
  EXPERIMENT_STATUSES,
  experimentBodySchema,
  experimentPatchSchema,
  keyParams,
  newPhaseSchema,
  transitionSchema,
  type ExperimentBody,
} from '../core/schemas';
import { authorize, principalOf } from '../tokens/auth';
import { renderBrief } from './brief';
import { withTransaction } from '../core/db';
import { newExperiment, type Experiment, type ExperimentVariant } from './model';
import {
  editExperiment,
  experimentReferenceProblems,
  startPhase,
  transitionExperiment,
  transitionsFor,
  type TransitionRequest,
} from './service';
import { checkVersion, insert, list, loadOrThrow, present } from '../core/entity-store';
import type { ResultsSummary } from '../../common/results-summary';
import { experimentHealth } from '../results/health';
import { queryAudit } from '../audit/routes';
import { failIfProblems, meta, versionOf, withEtag } from '../http/request';

const tags = ['experiments'];

export function experimentRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { pool } = deps;
  const read = authorize(deps.tokens, 'read');
  const write = authorize(deps.tokens, 'write');
  const environments = deps.config.REGISTRY_ENVIRONMENTS;

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
      const [all, summaries] = await Promise.all([
        list<Experiment>(pool, 'experiment'),
        pool.query<{ experiment_key: string; summary: ResultsSummary }>(
          'SELECT experiment_key, summary FROM experiment_result_summaries',
        ),
      ]);
      const latest = new Map(summaries.rows.map((r) => [r.experiment_key, r.summary]));
      return {
        experiments: all
          .filter((e) => !status || e.doc.status === status)
          .map((e) => ({ ...present(e), health: experimentHealth(latest.get(e.key) ?? null) })),
      };
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
      const stored = await withTransaction(pool, async (client) => {
        failIfProblems('experiment', await experimentReferenceProblems(client, body, environments));
        const created = newExperiment(body, principalOf(request).identity);
        return insert(client, 'experiment', body.key, created, meta(request, 'created'));
      });
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
      const stored = await loadOrThrow<Experiment>(
        pool,
        'experiment',
        (request.params as { key: string }).key,
      );
      const allowedTransitions = await transitionsFor(pool, stored.doc, principalOf(request));
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
      const stored = await withTransaction(pool, async (client) => {
        const current = await loadOrThrow<Experiment>(client, 'experiment', key, { lock: true });
        checkVersion(current, expected);
        const merged = { ...current.doc, ...patch };
        failIfProblems('experiment', await experimentReferenceProblems(client, merged, environments));
        return editExperiment(client, current, patch, principalOf(request).identity);
      });
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
      const expected = versionOf(request);
      const stored = await withTransaction(pool, async (client) => {
        const current = await loadOrThrow<Experiment>(client, 'experiment', key, { lock: true });
        // Optional here: a transition is checked against the current state anyway.
        if (expected !== undefined) checkVersion(current, expected);
        return transitionExperiment(client, current, body, principalOf(request));
      });
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
      const expected = versionOf(request);
      const stored = await withTransaction(pool, async (client) => {
        const current = await loadOrThrow<Experiment>(client, 'experiment', key, { lock: true });
        if (expected !== undefined) checkVersion(current, expected);
        return startPhase(client, current, body, principalOf(request));
      });
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
}
