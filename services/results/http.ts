// The results service's HTTP API, beside the ops routes: refresh on demand. Loopback by
// default (RESULTS_HOST); the registry's refresh endpoint and `xp refresh` call it.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from '../common/logger';
import { registerOpsRoutes, type OpsOptions } from '../common/ops-server';
import { RefreshTimeoutError, RegistryError } from './errors';
import type { HistoryQuery, ResultsHistory } from './history';
import type { Refresher } from './refresher';
import type { RunningExperiment } from './registry-client';

/** The registry's experiment key pattern. */
const KEY = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

export interface HttpDeps extends OpsOptions {
  logger: Logger;
  refresher: Refresher;
  /** The experiment's current phase and its start, when a source knows them. */
  describe: (key: string) => Promise<RunningExperiment>;
  /** The snapshots recorded in experiment_results, as series over time. */
  history: (key: string, q: HistoryQuery) => Promise<ResultsHistory>;
}

export function buildHttp(deps: HttpDeps): FastifyInstance {
  const app: FastifyInstance = Fastify({
    loggerInstance: deps.logger.child({ component: 'http' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024,
  });
  registerOpsRoutes(app, deps);

  app.post('/v1/experiments/:key/refresh', async (request, reply) => {
    const { key } = request.params as { key: string };
    if (!KEY.test(key)) {
      return reply.code(400).send({ error: 'invalid_key', message: 'not an experiment key' });
    }
    try {
      const experiment = await deps.describe(key);
      const outcome = await deps.refresher.refresh(experiment, 'demand');
      return reply.code(outcome.status === 'published' ? 200 : 404).send(outcome);
    } catch (err) {
      if (err instanceof RegistryError && err.status === 404) {
        return reply.code(404).send({ error: 'not_found', message: `no experiment ${key} in the registry` });
      }
      if (err instanceof RefreshTimeoutError) {
        return reply.code(504).send({ error: 'timeout', message: err.message });
      }
      request.log.error({ err, experiment: key }, 'refresh failed');
      return reply.code(502).send({ error: 'refresh_failed', message: (err as Error).message.slice(0, 500) });
    }
  });

  app.get('/v1/experiments/:key/history', async (request, reply) => {
    const { key } = request.params as { key: string };
    const query = request.query as Record<string, string | undefined>;
    if (!KEY.test(key)) {
      return reply.code(400).send({ error: 'invalid_key', message: 'not an experiment key' });
    }
    const q: HistoryQuery = {};
    if (query.phase !== undefined) {
      if (!/^\d{1,6}$/.test(query.phase)) {
        return reply.code(400).send({ error: 'invalid_phase', message: 'phase must be an integer ≥ 0' });
      }
      q.phase = Number(query.phase);
    }
    if (query.since !== undefined) {
      const since = new Date(query.since);
      if (Number.isNaN(since.getTime())) {
        return reply.code(400).send({ error: 'invalid_since', message: 'since must be an ISO date-time' });
      }
      q.since = since;
    }
    try {
      return reply.send(await deps.history(key, q));
    } catch (err) {
      request.log.error({ err, experiment: key }, 'history failed');
      return reply.code(502).send({ error: 'history_failed', message: (err as Error).message.slice(0, 500) });
    }
  });

  app.post('/v1/refresh', async (_request, reply) => {
    try {
      return reply.send(await deps.refresher.refreshAll('demand'));
    } catch (err) {
      return reply.code(502).send({ error: 'refresh_failed', message: (err as Error).message.slice(0, 500) });
    }
  });
  return app;
}
