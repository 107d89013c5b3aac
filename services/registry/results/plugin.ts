// Results and webhooks in the registry: the report and summary routes, the webhook routes, and
// the webhook dispatcher, started when the server is ready and stopped when it closes. The
// settings come from the environment and are validated when the app is built (start-up).
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app';
import { WebhookDispatcher } from '../webhooks/dispatcher';
import { webhookRoutes } from '../webhooks/routes';
import { resultsRoutes } from './routes';
import { loadResultsSettings, type ResultsSettings } from './settings';

export function resultsFeatures(
  app: FastifyInstance,
  deps: AppDeps,
  settings: ResultsSettings = loadResultsSettings(),
): void {
  resultsRoutes(app, deps, settings);
  webhookRoutes(app, deps);
  if (!settings.REGISTRY_WEBHOOKS_ENABLED) return;
  const dispatcher = new WebhookDispatcher({
    pool: deps.pool,
    logger: deps.logger.child({ component: 'webhooks' }),
    metrics: deps.metrics,
    pollMs: settings.REGISTRY_WEBHOOK_POLL_MS,
    timeoutMs: settings.REGISTRY_WEBHOOK_TIMEOUT_MS,
    maxAttempts: settings.REGISTRY_WEBHOOK_MAX_ATTEMPTS,
    backoffBaseMs: settings.REGISTRY_WEBHOOK_BACKOFF_MS,
    backoffMaxMs: settings.REGISTRY_WEBHOOK_BACKOFF_MAX_MS,
    batch: settings.REGISTRY_WEBHOOK_BATCH,
  });
  app.addHook('onReady', async () => dispatcher.start());
  // Before the pool closes (server.ts closes the app first): a send in flight finishes and is recorded.
  app.addHook('onClose', async () => dispatcher.stop());
}
