// Webhooks as admins register them (zod: validation and the OpenAPI schemas) and as listed.
import { z } from 'zod';
import { entityKey } from '../core/schemas';

export const WEBHOOK_EVENTS = [
  'experiment.transitioned',
  'experiment.concluded',
  'results.srm_warning',
  'results.significant',
  'results.guardrail_failed',
] as const;

export const webhookBodySchema = z.strictObject({
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
export type WebhookBody = z.infer<typeof webhookBodySchema>;

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
