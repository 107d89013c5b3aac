import { randomUUID } from 'node:crypto';
import type { FailedEvent, FailureReason } from '../common/records';
import { reason } from './rules';

/**
 * The bytes a failed event keeps of one rejected event: its JSON (without a body-borne
 * write key, which is a secret). JSON that cannot be serialised again (nesting deep enough
 * to overflow the stack) falls back to the request body it came in.
 */
export function eventPayload(raw: unknown, body: Buffer): Buffer {
  try {
    const value =
      typeof raw === 'object' && raw !== null && 'writeKey' in raw ? { ...raw, writeKey: undefined } : raw;
    return Buffer.from(JSON.stringify(value) ?? 'null');
  } catch {
    return body;
  }
}

export interface FailureInput {
  payload: Buffer;
  reasons: FailureReason[];
  messageId: string | null;
  sourceId: string | null;
  failedAt: number;
  /** Kafka refuses records above message.max.bytes; longer payloads are cut, with a reason saying so. */
  maxPayloadBytes: number;
}

/** A FailedEvent record of the collector stage. */
export function failedEvent({
  payload,
  reasons,
  messageId,
  sourceId,
  failedAt,
  maxPayloadBytes,
}: FailureInput): FailedEvent {
  const truncated = payload.length > maxPayloadBytes;
  return {
    failureId: randomUUID(),
    stage: 'collector',
    failedAt,
    messageId,
    payload: truncated ? payload.subarray(0, maxPayloadBytes) : payload,
    reasons: truncated
      ? [
          ...reasons,
          reason(
            'payload_truncated',
            '',
            `payload cut to its first ${maxPayloadBytes} of ${payload.length} bytes`,
          ),
        ]
      : reasons,
    sourceId,
    sourceTopic: null,
    sourcePartition: null,
    sourceOffset: null,
  };
}
