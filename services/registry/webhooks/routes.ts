// Webhooks: admins register receivers (the secret is shown once), list and remove them, send a
// test delivery, and read each webhook's delivery log.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppDeps } from '../app';
import { entityKey } from '../core/schemas';
import { authorize, principalOf } from '../tokens/auth';
import { HttpError, notFound } from '../core/errors';

const tags = ['webhooks'];

export const WEBHOOK_EVENTS = [
  'experiment.transitioned',
  'experiment.concluded',
  'results.srm_warning',
  'results.significant',
  'results.guardrail_failed',
] as const;

const webhookBody = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, 'letters, digits, _ . - only'),
  url: z
    .url({ protocol: /^https?$/, error: 'an http(s) URL' })
    .max(2000)
    .refine((u) => !new URL(u).username && !new URL(u).password, 'credentials in the URL are not allowed'),
  /** Empty or absent: every event. */
  events: z.array(z.enum(WEBHOOK_EVENTS)).max(WEBHOOK_EVENTS.length).default([]),
  /** Empty or absent: every experiment. */
  experiments: z.array(entityKey).max(1000).default([]),
  format: z.enum(['json', 'slack']).default('json'),
});
type WebhookBody = z.infer<typeof webhookBody>;

const idParams = z.strictObject({ id: z.coerce.number().int().positive() });

interface WebhookRow {
  id: string;
  name: string;
  url: string;
  events: string[];
  experiments: string[];
  format: string;
  active: boolean;
  created_by: string;
  created_at: Date;
}

const present = (r: WebhookRow) => ({
  id: Number(r.id),
  name: r.name,
  url: r.url,
  events: r.events,
  experiments: r.experiments,
  format: r.format,
  active: r.active,
  createdBy: r.created_by,
  createdAt: r.created_at.toISOString(),
});

const COLUMNS = 'id, name, url, events, experiments, format, active, created_by, created_at';

export function webhookRoutes(app: FastifyInstance, deps: AppDeps): void {
  const admin = authorize(deps.tokens, 'admin');

  app.post(
    '/v1/webhooks',
    {
      onRequest: admin,
      schema: {
        tags,
        summary: 'Register a webhook; the answer carries its signing secret, shown only once',
        body: webhookBody,
      },
    },
    async (request, reply) => {
      const body = request.body as WebhookBody;
      const secret = `whsec_${randomBytes(32).toString('base64url')}`;
      try {
        const { rows } = await deps.pool.query<WebhookRow>(
          `INSERT INTO webhooks (name, url, secret, events, experiments, format, created_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
          [
            body.name,
            body.url,
            secret,
            body.events,
            body.experiments,
            body.format,
            principalOf(request).identity,
          ],
        );
        return reply.code(201).send({ ...present(rows[0]!), secret });
      } catch (err) {
        if ((err as { code?: string }).code === '23505') {
          throw new HttpError(409, 'exists', `a webhook named ${body.name} exists`);
        }
        throw err;
      }
    },
  );

  app.get(
    '/v1/webhooks',
    { onRequest: admin, schema: { tags, summary: 'List webhooks (without secrets)' } },
    async () => {
      const { rows } = await deps.pool.query<WebhookRow>(`SELECT ${COLUMNS} FROM webhooks ORDER BY id`);
      return { webhooks: rows.map(present) };
    },
  );

  app.delete(
    '/v1/webhooks/:id',
    {
      onRequest: admin,
      schema: { tags, summary: 'Remove a webhook and its delivery log', params: idParams },
    },
    async (request, reply) => {
      const { id } = request.params as { id: number };
      const { rowCount } = await deps.pool.query('DELETE FROM webhooks WHERE id = $1', [id]);
      if (!rowCount) throw notFound(`webhook ${id}`);
      return reply.code(204).send();
    },
  );

  app.post(
    '/v1/webhooks/:id/ping',
    { onRequest: admin, schema: { tags, summary: 'Queue a test delivery', params: idParams } },
    async (request, reply) => {
      const { id } = request.params as { id: number };
      const { rows } = await deps.pool.query<{ id: string }>(
        `INSERT INTO webhook_deliveries (webhook_id, event, experiment_key, payload)
         SELECT id, 'ping', NULL, jsonb_build_object('event', 'ping', 'webhook', name, 'at', now()) FROM webhooks WHERE id = $1
         RETURNING id`,
        [id],
      );
      if (rows.length === 0) throw notFound(`webhook ${id}`);
      return reply.code(202).send({ deliveryId: Number(rows[0]!.id) });
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
          status: z.enum(['pending', 'delivered', 'failed']).optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
        }),
      },
    },
    async (request) => {
      const { id } = request.params as { id: number };
      const { status, limit } = request.query as { status?: string; limit: number };
      const { rowCount } = await deps.pool.query('SELECT 1 FROM webhooks WHERE id = $1', [id]);
      if (!rowCount) throw notFound(`webhook ${id}`);
      const { rows } = await deps.pool.query<{
        id: string;
        event: string;
        experiment_key: string | null;
        status: string;
        attempts: number;
        last_status_code: number | null;
        last_error: string | null;
        created_at: Date;
        next_attempt_at: Date;
        delivered_at: Date | null;
        payload: unknown;
      }>(
        `SELECT id, event, experiment_key, status, attempts, last_status_code, last_error, created_at,
                next_attempt_at, delivered_at, payload
         FROM webhook_deliveries WHERE webhook_id = $1 AND ($2::text IS NULL OR status = $2)
         ORDER BY id DESC LIMIT $3`,
        [id, status ?? null, limit],
      );
      return {
        deliveries: rows.map((r) => ({
          id: Number(r.id),
          event: r.event,
          experimentKey: r.experiment_key,
          status: r.status,
          attempts: r.attempts,
          lastStatusCode: r.last_status_code,
          lastError: r.last_error,
          createdAt: r.created_at.toISOString(),
          nextAttemptAt: r.status === 'pending' ? r.next_attempt_at.toISOString() : null,
          deliveredAt: r.delivered_at?.toISOString() ?? null,
          payload: r.payload,
        })),
      };
    },
  );
}
