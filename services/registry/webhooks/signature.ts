// Webhook signatures: HMAC-SHA256 over "<unix seconds>.<body>" with the webhook's secret,
// sent as `X-XP-Signature: sha256=<hex>` with the time in `X-XP-Timestamp`. Signing the time
// lets receivers refuse replays older than a tolerance; the body is signed byte for byte.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-xp-signature';
export const TIMESTAMP_HEADER = 'x-xp-timestamp';
export const EVENT_HEADER = 'x-xp-event';
export const DELIVERY_HEADER = 'x-xp-delivery';

export function sign(secret: string, timestamp: number, body: string): string {
  return 'sha256=' + createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');
}

/**
 * What a receiver does: recompute and compare in constant time, and refuse timestamps further
 * than `toleranceSeconds` from now.
 */
export function verify(
  secret: string,
  headers: { signature?: string; timestamp?: string },
  body: string,
  nowSeconds = Math.floor(Date.now() / 1000),
  toleranceSeconds = 300,
): boolean {
  const ts = Number(headers.timestamp);
  if (!headers.signature || !Number.isInteger(ts) || Math.abs(nowSeconds - ts) > toleranceSeconds)
    return false;
  const expected = Buffer.from(sign(secret, ts, body));
  const got = Buffer.from(headers.signature);
  return expected.length === got.length && timingSafeEqual(expected, got);
}
