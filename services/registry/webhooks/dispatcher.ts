// Sends pending webhook deliveries: claim due rows (SKIP LOCKED, so several registry instances
// share the work), POST the signed body, and record the outcome in the row, which is the
// delivery log. A failure is retried with exponential backoff until the attempts run out.
// Every delivery of one event keeps its id (X-XP-Delivery) across retries, so receivers can
// drop duplicates: delivery is at least once.
import type { Counter, Registry } from 'prom-client';
import { Counter as PromCounter } from 'prom-client';
import type { Logger } from '../../common/logger';
import type { Pool } from '../core/db';
import { backoffMs } from './backoff';
import { webhookBody, type WebhookFormat } from './payload';
import { DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign } from './signature';

export interface DispatcherOptions {
  pool: Pool;
  logger: Logger;
  metrics: Registry;
  pollMs: number;
  timeoutMs: number;
  maxAttempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  batch: number;
}

interface Claimed {
  id: string;
  event: string;
  payload: Record<string, unknown>;
  attempts: number;
  url: string;
  secret: string;
  format: WebhookFormat;
}

/** Error text kept in the log: short, and without the receiver's body (it may echo secrets). */
const MAX_ERROR_CHARS = 300;

export class WebhookDispatcher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly sent: Counter<'outcome'>;

  constructor(private readonly o: DispatcherOptions) {
    const existing = o.metrics.getSingleMetric('xp_registry_webhook_deliveries_total');
    this.sent =
      (existing as Counter<'outcome'> | undefined) ??
      new PromCounter({
        name: 'xp_registry_webhook_deliveries_total',
        help: 'Webhook delivery attempts by outcome (delivered, retry, failed)',
        labelNames: ['outcome'] as const,
        registers: [o.metrics],
      });
  }

  start(): void {
    const loop = async () => {
      if (this.stopped) return;
      this.running = this.tick()
        .catch((err) => this.o.logger.error({ err }, 'webhook dispatch failed'))
        .then(() => undefined);
      await this.running;
      if (!this.stopped) this.timer = setTimeout(() => void loop(), this.o.pollMs);
    };
    this.timer = setTimeout(() => void loop(), 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** One poll: claim due deliveries and attempt them concurrently. */
  async tick(): Promise<number> {
    const lease = this.o.timeoutMs + 5_000;
    const { rows } = await this.o.pool.query<Claimed>(
      `WITH due AS (
         SELECT id FROM webhook_deliveries
         WHERE status = 'pending' AND next_attempt_at <= now()
         ORDER BY id LIMIT $1
         FOR UPDATE SKIP LOCKED
       )
       UPDATE webhook_deliveries AS d
       SET next_attempt_at = now() + make_interval(secs => $2::double precision / 1000)
       FROM due, webhooks AS w
       WHERE d.id = due.id AND w.id = d.webhook_id
       RETURNING d.id, d.event, d.payload, d.attempts, w.url, w.secret, w.format`,
      [this.o.batch, lease],
    );
    await Promise.all(rows.map((r) => this.attempt(r)));
    return rows.length;
  }

  private async attempt(d: Claimed): Promise<void> {
    const body = webhookBody(d.format, d.event, d.payload);
    const timestamp = Math.floor(Date.now() / 1000);
    let status: number | null = null;
    let error: string | null = null;
    try {
      const res = await fetch(d.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'xp-registry-webhooks/1',
          [EVENT_HEADER]: d.event,
          [DELIVERY_HEADER]: d.id,
          [TIMESTAMP_HEADER]: String(timestamp),
          [SIGNATURE_HEADER]: sign(d.secret, timestamp, body),
        },
        body,
        // A redirect could point the signed body anywhere; the registered URL is the contract.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.o.timeoutMs),
      });
      status = res.status;
      await res.body?.cancel().catch(() => undefined);
      if (status < 200 || status >= 300) error = `HTTP ${status}`;
    } catch (err) {
      error = ((err as Error).cause as Error | undefined)?.message ?? (err as Error).message;
    }
    const attempts = d.attempts + 1;
    if (error === null) {
      this.sent.inc({ outcome: 'delivered' });
      await this.o.pool.query(
        `UPDATE webhook_deliveries SET status = 'delivered', attempts = $2, last_status_code = $3,
           last_error = NULL, delivered_at = now() WHERE id = $1`,
        [d.id, attempts, status],
      );
      return;
    }
    const giveUp = attempts >= this.o.maxAttempts;
    this.sent.inc({ outcome: giveUp ? 'failed' : 'retry' });
    const delay = backoffMs(attempts, this.o.backoffBaseMs, this.o.backoffMaxMs);
    // The URL is logged without its query string, which may carry a receiver's token.
    this.o.logger.warn(
      { delivery: d.id, event: d.event, attempts, status, error, host: safeHost(d.url) },
      giveUp ? 'webhook delivery failed for good' : 'webhook delivery failed; will retry',
    );
    await this.o.pool.query(
      `UPDATE webhook_deliveries SET status = $2, attempts = $3, last_status_code = $4, last_error = $5,
         next_attempt_at = now() + make_interval(secs => $6::double precision / 1000) WHERE id = $1`,
      [d.id, giveUp ? 'failed' : 'pending', attempts, status, error.slice(0, MAX_ERROR_CHARS), delay],
    );
  }
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '?';
  }
}
