import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Logger } from './logger';

/** A named readiness check; it throws or returns false when the dependency is not usable. */
export type ReadinessCheck = { name: string; check: () => Promise<boolean> | boolean };

export interface OpsOptions {
  metrics: Registry;
  readiness: ReadinessCheck[];
}

/**
 * Adds /metrics, /healthz (the process is alive) and /readyz (every dependency is usable,
 * with each check's result) to a Fastify app.
 */
export function registerOpsRoutes(app: FastifyInstance, { metrics, readiness }: OpsOptions): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const results = await Promise.all(
      readiness.map(async ({ name, check }) => {
        try {
          return { name, ready: (await check()) !== false };
        } catch (err) {
          return { name, ready: false, error: (err as Error).message };
        }
      }),
    );
    const ready = results.every((r) => r.ready);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks: results });
  });
  app.get('/metrics', async (_req, reply) => {
    return reply.header('content-type', metrics.contentType).send(await metrics.metrics());
  });
}

/** A Fastify server serving only the ops routes, for services without an HTTP API. */
export async function startOpsServer(
  opts: OpsOptions & { host: string; port: number; logger: Logger },
): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    loggerInstance: opts.logger.child({ component: 'ops' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
  });
  registerOpsRoutes(app, opts);
  await app.listen({ host: opts.host, port: opts.port });
  return app;
}
