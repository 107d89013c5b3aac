import { avroType } from '../../../services/common/schemas';
import { eventPayload, failedEvent } from '../../../services/collector/failed';

describe('failed events', () => {
  it('keeps the event JSON without a body-borne write key', () => {
    const payload = eventPayload({ writeKey: 'secret-key-1', event: 'e' }, Buffer.from('body'));
    expect(payload.toString()).toBe('{"event":"e"}');
    expect(eventPayload('x', Buffer.from('body')).toString()).toBe('"x"');
  });

  it('falls back to the request body when the event cannot be serialised', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(eventPayload(deep, Buffer.from('the body')).toString()).toBe('the body');
  });

  it('builds a FailedEvent that matches the schema, cutting oversized payloads with a reason', () => {
    const reasons = [
      { code: 'missing_identity', path: 'userId', message: 'userId or anonymousId is required' },
    ];
    const record = failedEvent({
      payload: Buffer.alloc(2000, 'a'),
      reasons,
      messageId: 'm-1',
      sourceId: 'web',
      failedAt: 1,
      maxPayloadBytes: 1024,
    });
    expect(avroType('failed-event').isValid(record)).toBe(true);
    expect(record).toMatchObject({
      stage: 'collector',
      messageId: 'm-1',
      sourceId: 'web',
      sourceTopic: null,
    });
    expect(record.payload).toHaveLength(1024);
    expect(record.reasons).toEqual([
      ...reasons,
      { code: 'payload_truncated', path: '', message: 'payload cut to its first 1024 of 2000 bytes' },
    ]);
  });
});
