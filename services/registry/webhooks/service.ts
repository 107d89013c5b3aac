// Webhook management: registration (the signing secret is returned once), removal, test
// deliveries and the delivery log. Deliveries themselves are sent by dispatcher.ts.
import { randomBytes } from 'node:crypto';
import type { Pool } from '../core/db';
import { ERR } from '../core/errors';
import type { WebhookBody } from './model';
import { deleteWebhook, insertWebhook, listDeliveries, queuePing, webhookExists } from './store';

export async function registerWebhook(pool: Pool, body: WebhookBody, createdBy: string) {
  const secret = `whsec_${randomBytes(32).toString('base64url')}`;
  try {
    return { ...(await insertWebhook(pool, body, secret, createdBy)), secret };
  } catch (err) {
    if ((err as { code?: string }).code === '23505') throw ERR.WEBHOOK_NAME_TAKEN({ name: body.name });
    throw err;
  }
}

export async function removeWebhook(pool: Pool, id: number): Promise<void> {
  if (!(await deleteWebhook(pool, id))) throw ERR.NOT_FOUND({ what: `webhook ${id}` });
}

export async function ping(pool: Pool, id: number): Promise<number> {
  const deliveryId = await queuePing(pool, id);
  if (deliveryId === null) throw ERR.NOT_FOUND({ what: `webhook ${id}` });
  return deliveryId;
}

export async function deliveries(pool: Pool, id: number, status: string | undefined, limit: number) {
  if (!(await webhookExists(pool, id))) throw ERR.NOT_FOUND({ what: `webhook ${id}` });
  return listDeliveries(pool, id, status, limit);
}
