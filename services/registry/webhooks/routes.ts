// Webhook routes (admin only): register a receiver (the secret is shown once), list and remove
// them, send a test delivery, and read each webhook's delivery log. The plugin also runs the
// delivery dispatcher: started when the server is ready, stopped when it closes.
import type { FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import type { Logger } from '../../common/logger';
import type { FeatureDeps } from '../http/feature';
import { authorize, principalOf } from '../tokens/auth';
import { WebhookDispatcher, type DispatcherOptions } from './dispatcher';
import { DELIVERY_STATUSES, webhookBodySchema, type WebhookBody } from './model';
import { deliveries, ping, registerWebhook, removeWebhook } from './service';
import { listWebhooks } from './store';

const tags = ['webhooks'];

const idParams = z.strictObject({ id: z.coerce.number().int().positive() });

export interface WebhooksDeps extends FeatureDeps {
  logger: Logger;
  metrics: Registry;
  /** The delivery dispatcher's settings; absent: this instance sends no deliveries. */
  dispatcher?: Omit<DispatcherOptions, 'pool' | 'logger' | 'metrics'>;
}

export const webhooksPlugin: FastifyPluginAsync<WebhooksDeps> = async (app, deps) => {
  const { pool } = deps;
  const admin = authorize(deps.tokens, 'admin');

  app.post(
    '/v1/webhooks',
    {
      onRequest: admin,
      schema: {
        tags,
        summary: 'Register a webhook; the answer carries its signing secret, shown only once',
        body: webhookBodySchema,
      },
    },
    async (request, reply) => {
      const body = request.body as WebhookBody;
      return reply.code(201).send(await registerWebhook(pool, body, principalOf(request).identity));
    },
  );

  app.get(
    '/v1/webhooks',
    { onRequest: admin, schema: { tags, summary: 'List webhooks (without secrets)' } },
    async () => ({ webhooks: await listWebhooks(pool) }),
  );

  app.delete(
    '/v1/webhooks/:id',
    {
      onRequest: admin,
      schema: { tags, summary: 'Remove a webhook and its delivery log', params: idParams },
    },
    async (request, reply) => {
      await removeWebhook(pool, (request.params as { id: number }).id);
      return reply.code(204).send();
    },
  );

  app.post(
    '/v1/webhooks/:id/ping',
    { onRequest: admin, schema: { tags, summary: 'Queue a test delivery', params: idParams } },
    async (request, reply) => {
      const deliveryId = await ping(pool, (request.params as { id: number }).id);
      return reply.code(202).send({ deliveryId });
    },
  );

  app.get(
    '/v1/webhooks/:id/deliveries',
    {
      onRequest: admin,
      schema: {
        tags,
        summary: "The webhook's delivery log, newest first: event, status, attempts, last answer",
        params: idParams,
        querystring: z.strictObject({
          status: z.enum(DELIVERY_STATUSES).optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
        }),
      },
    },
    async (request) => {
      const { id } = request.params as { id: number };
      const { status, limit } = request.query as { status?: string; limit: number };
      return { deliveries: await deliveries(pool, id, status, limit) };
    },
  );

  if (!deps.dispatcher) return;
  const dispatcher = new WebhookDispatcher({
    pool,
    logger: deps.logger.child({ component: 'webhooks' }),
    metrics: deps.metrics,
    ...deps.dispatcher,
  });
  app.addHook('onReady', async () => dispatcher.start());
  // Before the pool closes (server.ts closes the app first): a send in flight finishes and is recorded.
  app.addHook('onClose', async () => dispatcher.stop());
};
