// Persistence of webhooks and their delivery log (webhook_deliveries; the dispatcher claims and
// updates its rows).
import type { Queryable } from '../core/entity-store';
import type { WebhookBody } from './model';

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
export type WebhookInfo = ReturnType<typeof present>;

const COLUMNS = 'id, name, url, events, experiments, format, active, created_by, created_at';

/** Inserts a webhook; a name that is taken fails with PostgreSQL's unique violation (23505). */
export async function insertWebhook(
  q: Queryable,
  body: WebhookBody,
  secret: string,
  createdBy: string,
): Promise<WebhookInfo> {
  const { rows } = await q.query<WebhookRow>(
    `INSERT INTO webhooks (name, url, secret, events, experiments, format, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
    [body.name, body.url, secret, body.events, body.experiments, body.format, createdBy],
  );
  return present(rows[0]!);
}

export async function listWebhooks(q: Queryable): Promise<WebhookInfo[]> {
  const { rows } = await q.query<WebhookRow>(`SELECT ${COLUMNS} FROM webhooks ORDER BY id`);
  return rows.map(present);
}

/** False when there is no webhook with this id. */
export async function deleteWebhook(q: Queryable, id: number): Promise<boolean> {
  const { rowCount } = await q.query('DELETE FROM webhooks WHERE id = $1', [id]);
  return Boolean(rowCount);
}

export async function webhookExists(q: Queryable, id: number): Promise<boolean> {
  const { rowCount } = await q.query('SELECT 1 FROM webhooks WHERE id = $1', [id]);
  return Boolean(rowCount);
}

/** Queues a test delivery; null when there is no webhook with this id. */
export async function queuePing(q: Queryable, id: number): Promise<number | null> {
  const { rows } = await q.query<{ id: string }>(
    `INSERT INTO webhook_deliveries (webhook_id, event, experiment_key, payload)
     SELECT id, 'ping', NULL, jsonb_build_object('event', 'ping', 'webhook', name, 'at', now()) FROM webhooks WHERE id = $1
     RETURNING id`,
    [id],
  );
  return rows[0] ? Number(rows[0].id) : null;
}

/** The delivery log, newest first. */
export async function listDeliveries(q: Queryable, id: number, status: string | undefined, limit: number) {
  const { rows } = await q.query<{
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
  return rows.map((r) => ({
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
  }));
}
