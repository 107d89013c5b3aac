// The registry's HTTP application, built from its dependencies so tests can run it
// in-process (app.inject or listen on port 0). Wiring of real connections is in server.ts.
//
// Dependencies point one way: app.ts → http/ (validation, errors, OpenAPI) and the feature
// plugins (<feature>/routes.ts) → each feature's service → its store and core/. Nothing
// imports app.ts, and no service imports a plugin (test/unit/architecture/imports.test.ts).

import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Logger } from '../common/logger';
import { registerOpsRoutes, type ReadinessCheck } from '../common/ops-server';
import { auditPlugin } from './audit/routes';
import type { ChangeHub } from './changes/hub';
import { configAsCodePlugin } from './config-as-code/routes';
import type { RegistryConfig } from './config';
import { consolePlugin } from './console/routes';
import type { Pool } from './core/db';
import { experimentsPlugin } from './experiments/routes';
import { flagsPlugin } from './flags/routes';
import { installErrorHandler } from './http/errors';
import type { FeatureDeps } from './http/feature';
import { registerOpenApi } from './http/openapi';
import { installValidation } from './http/validation';
import { ideasPlugin } from './ideas/routes';
import { loadIdeasSettings } from './ideas/settings';
import { resultsPlugin } from './results/routes';
import { loadResultsSettings } from './results/settings';
import type { ExposureLogger } from './sdk/exposures';
import type { PayloadCache } from './sdk/payload';
import { sdkPlugin } from './sdk/routes';
import { segmentsPlugin } from './segments/routes';
import { tokensPlugin } from './tokens/routes';
import type { TokenStore } from './tokens/store';
import { webhooksPlugin } from './webhooks/routes';

export interface AppDeps {
  config: Pick<
    RegistryConfig,
    'REGISTRY_ENVIRONMENTS' | 'REGISTRY_BODY_LIMIT_BYTES' | 'REGISTRY_SSE_HEARTBEAT_MS'
  >;
  pool: Pool;
  logger: Logger;
  metrics: Registry;
  tokens: TokenStore;
  payloads: PayloadCache;
  hub: ChangeHub;
  exposures: ExposureLogger;
  readiness: ReadinessCheck[];
  /**
   * Serve the browsable docs at /docs (default true). In-process jest tests turn it off:
   * @fastify/swagger-ui pulls an ESM-only dependency that jest's CommonJS runtime cannot load.
   */
  docsUi?: boolean;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    loggerInstance: deps.logger.child({ component: 'http' }) as FastifyBaseLogger,
    bodyLimit: deps.config.REGISTRY_BODY_LIMIT_BYTES,
    logController: new LogController({ disableRequestLogging: true }),
    // SSE streams stay open; closing the server must not wait for them.
    forceCloseConnections: true,
  });
  installValidation(app);
  installErrorHandler(app, deps.config.REGISTRY_BODY_LIMIT_BYTES);
  await registerOpenApi(app, { docsUi: deps.docsUi !== false });
  registerOpsRoutes(app, { metrics: deps.metrics, readiness: deps.readiness });

  // Feature settings are validated here, at start-up, like the rest of the environment.
  const results = loadResultsSettings();
  const feature: FeatureDeps = {
    pool: deps.pool,
    tokens: deps.tokens,
    environments: deps.config.REGISTRY_ENVIRONMENTS,
  };
  await app.register(async (api) => {
    await api.register(flagsPlugin, feature);
    await api.register(segmentsPlugin, feature);
    await api.register(experimentsPlugin, feature);
    await api.register(auditPlugin, feature);
    await api.register(tokensPlugin, feature);
    await api.register(configAsCodePlugin, feature);
    await api.register(sdkPlugin, {
      tokens: deps.tokens,
      environments: feature.environments,
      payloads: deps.payloads,
      hub: deps.hub,
      exposures: deps.exposures,
      heartbeatMs: deps.config.REGISTRY_SSE_HEARTBEAT_MS,
    });
    await api.register(resultsPlugin, { ...feature, settings: results });
    await api.register(webhooksPlugin, {
      ...feature,
      logger: deps.logger,
      metrics: deps.metrics,
      dispatcher: results.REGISTRY_WEBHOOKS_ENABLED
        ? {
            pollMs: results.REGISTRY_WEBHOOK_POLL_MS,
            timeoutMs: results.REGISTRY_WEBHOOK_TIMEOUT_MS,
            maxAttempts: results.REGISTRY_WEBHOOK_MAX_ATTEMPTS,
            backoffBaseMs: results.REGISTRY_WEBHOOK_BACKOFF_MS,
            backoffMaxMs: results.REGISTRY_WEBHOOK_BACKOFF_MAX_MS,
            batch: results.REGISTRY_WEBHOOK_BATCH,
          }
        : undefined,
    });
    await api.register(ideasPlugin, { ...feature, settings: loadIdeasSettings() });
    await api.register(consolePlugin, { tokens: deps.tokens });
  });
  return app;
}
