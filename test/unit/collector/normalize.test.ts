import type avro from 'avsc';
import { avroType } from '../../../services/common/schemas';
import type { FieldError } from '../../../services/common/serde';
import type { TrackingEvent } from '../../../services/common/records';
import { normalize, numericValue, type Edge, type Normalized } from '../../../services/collector/normalize';
import { DEFAULT_LIMITS } from '../../../services/collector/rules';

const trackingEvent: avro.Type = avroType('tracking-event');
const schemaCheck = (event: TrackingEvent): FieldError[] => {
  const errors: FieldError[] = [];
  trackingEvent.isValid(event, {
    errorHook: (path) => errors.push({ path: path.join('.'), message: 'mismatch' }),
  });
  return errors;
};

const receivedAt = Date.UTC(2026, 2, 1, 12, 0, 0);
const edge: Edge = {
  receivedAt,
  sourceId: 'web',
  ip: '203.0.113.195',
  userAgent: 'curl/8',
  anonymizeIp: true,
};

// 'batch': a batch item, which carries its own type.
const run = (raw: unknown, type: 'track' | 'identify' | 'page' | 'batch' = 'track', e: Partial<Edge> = {}) =>
  normalize(raw, type === 'batch' ? undefined : type, { ...edge, ...e }, DEFAULT_LIMITS, schemaCheck);

function accepted(result: Normalized) {
  if (!result.ok) throw new Error(`rejected: ${JSON.stringify(result.reasons)}`);
  return result;
}
function rejected(result: Normalized) {
  if (result.ok) throw new Error('accepted');
  return result;
}

describe('normalize', () => {
  it('turns a Segment track call into a TrackingEvent that matches the schema', () => {
    const { event, exposure, messageId } = accepted(
      run({
        messageId: 'm-1',
        event: 'Order Completed',
        userId: 'u-1',
        anonymousId: 'a-1',
        properties: { revenue: 12.5, items: [{ sku: 'x' }] },
        context: { library: { name: 'analytics-node', version: '3' } },
        timestamp: '2026-03-01T11:59:00.000Z',
      }),
    );
    expect(messageId).toBe('m-1');
    expect(exposure).toBeNull();
    expect(event).toEqual({
      messageId: 'm-1',
      type: 'track',
      event: 'Order Completed',
      userId: 'u-1',
      anonymousId: 'a-1',
      unitId: 'u-1',
      timestamp: Date.UTC(2026, 2, 1, 11, 59),
      originalTimestamp: Date.UTC(2026, 2, 1, 11, 59),
      sentAt: null,
      receivedAt,
      value: 12.5,
      properties: '{"revenue":12.5,"items":[{"sku":"x"}]}',
      traits: null,
      context: '{"library":{"name":"analytics-node","version":"3"},"ip":"203.0.113.0","userAgent":"curl/8"}',
      sourceId: 'web',
    });
    expect(trackingEvent.isValid(event)).toBe(true);
  });

  it('assigns a messageId when absent and keys by anonymousId without a userId', () => {
    const { event, messageId } = accepted(run({ event: 'Signed Up', anonymousId: 'a-9', userId: '' }));
    expect(messageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(event.messageId).toBe(messageId);
    expect(event.unitId).toBe('a-9');
    expect(event.userId).toBeNull();
    expect(event.timestamp).toBe(receivedAt);
    expect(event.originalTimestamp).toBeNull();
  });

  it('corrects the client clock: timestamp + (receivedAt - sentAt)', () => {
    // The client's clock runs 1 hour fast: its sentAt says 13:00 when the server says 12:00.
    const { event } = accepted(
      run({ event: 'e', userId: 'u', timestamp: '2026-03-01T12:59:30Z', sentAt: '2026-03-01T13:00:00Z' }),
    );
    expect(event.timestamp).toBe(Date.UTC(2026, 2, 1, 11, 59, 30));
    expect(event.originalTimestamp).toBe(Date.UTC(2026, 2, 1, 12, 59, 30));
    expect(event.sentAt).toBe(Date.UTC(2026, 2, 1, 13));
    // A batch's sentAt applies to its events.
    const batched = accepted(
      run({ type: 'track', event: 'e', userId: 'u', timestamp: '2026-03-01T12:59:30Z' }, 'batch', {
        batchSentAt: '2026-03-01T13:00:00Z',
      }),
    );
    expect(batched.event.timestamp).toBe(Date.UTC(2026, 2, 1, 11, 59, 30));
  });

  it('keeps context and the user agent, anonymises or keeps the IP as configured', () => {
    const context = (r: Normalized) => JSON.parse(accepted(r).event.context) as Record<string, unknown>;
    expect(
      context(run({ event: 'e', userId: 'u', context: { ip: '2001:db8:85a3::1', userAgent: 'Safari' } })),
    ).toEqual({ ip: '2001:db8:85a3::', userAgent: 'Safari' });
    expect(context(run({ event: 'e', userId: 'u' }, 'track', { anonymizeIp: false }))).toEqual({
      ip: '203.0.113.195',
      userAgent: 'curl/8',
    });
    expect(
      context(run({ event: 'e', userId: 'u' }, 'track', { ip: undefined, userAgent: undefined })),
    ).toEqual({});
    expect(
      context(
        run({ event: 'e', userId: 'u', context: { locale: 'de' } }, 'track', {
          batchContext: { locale: 'fr', app: 'x' },
        }),
      ),
    ).toMatchObject({ locale: 'de', app: 'x' });
    expect(rejected(run({ event: 'e', userId: 'u', context: { ip: 'not-an-ip' } })).reasons).toEqual([
      { code: 'invalid_value', path: 'context.ip', message: 'expected an IPv4 or IPv6 address' },
    ]);
  });

  it('maps identify traits and page names', () => {
    const identify = accepted(run({ userId: 'u', traits: { plan: 'pro' } }, 'identify')).event;
    expect(identify).toMatchObject({
      type: 'identify',
      event: null,
      traits: '{"plan":"pro"}',
      properties: '{}',
    });
    const page = accepted(
      run({ anonymousId: 'a', name: 'Pricing', properties: { path: '/pricing' } }, 'page'),
    ).event;
    expect(page).toMatchObject({ type: 'page', event: 'Pricing', traits: null });
  });

  it('emits an Exposure for Experiment Viewed with the same messageId and key', () => {
    const { event, exposure } = accepted(
      run({
        messageId: 'm-x',
        event: 'Experiment Viewed',
        anonymousId: 'a-1',
        properties: { experiment_id: 'checkout', variation_id: 1 },
        timestamp: '2026-03-01T11:00:00Z',
      }),
    );
    expect(exposure).toEqual({
      messageId: 'm-x',
      unitId: 'a-1',
      experimentKey: 'checkout',
      variationId: '1',
      timestamp: event.timestamp,
      receivedAt,
      origin: 'collector',
      attributes: '{"experiment_id":"checkout","variation_id":1}',
    });
    expect(avroType('exposure').isValid(exposure)).toBe(true);
    expect(
      rejected(run({ event: 'Experiment Viewed', userId: 'u', properties: { variation_id: '' } })).reasons,
    ).toEqual([
      {
        code: 'missing_property',
        path: 'properties.experiment_id',
        message: 'Experiment Viewed needs experiment_id',
      },
      {
        code: 'invalid_type',
        path: 'properties.variation_id',
        message: 'expected a non-empty string or a number, got an empty string',
      },
    ]);
  });

  it('lists every reason with its field path', () => {
    const { reasons, messageId } = rejected(
      run({
        messageId: 'bad-1',
        event: 42,
        properties: { nested: { deeper: 'x'.repeat(9000) } },
        timestamp: 'soon',
      }),
    );
    expect(messageId).toBe('bad-1');
    expect(reasons).toEqual([
      { code: 'missing_identity', path: 'userId', message: 'userId or anonymousId is required' },
      { code: 'invalid_type', path: 'event', message: 'expected a non-empty string, got number' },
      {
        code: 'too_long',
        path: 'properties.nested.deeper',
        message: 'string of 9000 characters, the limit is 8192',
      },
      { code: 'invalid_timestamp', path: 'timestamp', message: 'expected an ISO-8601 date-time, got "soon"' },
    ]);
  });

  it('reports wrong types through the Avro schema check', () => {
    const { reasons, messageId } = rejected(
      run({ messageId: 7, event: 'e', userId: 12345, anonymousId: 'a' }),
    );
    expect(messageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(reasons).toEqual([
      { code: 'schema_violation', path: 'messageId', message: 'mismatch' },
      { code: 'schema_violation', path: 'userId', message: 'mismatch' },
    ]);
  });

  it('checks batch items for a valid type and the future for skew-corrected time', () => {
    expect(rejected(run({ userId: 'u', event: 'e' }, 'batch')).reasons[0]).toMatchObject({
      code: 'missing_property',
      path: 'type',
    });
    expect(rejected(run({ type: 'purchase', userId: 'u' }, 'batch')).reasons[0]).toMatchObject({
      code: 'invalid_value',
      path: 'type',
    });
    expect(
      rejected(run({ event: 'e', userId: 'u', timestamp: '2027-01-01T00:00:00Z' })).reasons[0],
    ).toMatchObject({
      code: 'timestamp_in_future',
    });
    expect(rejected(run('not an object')).reasons[0]).toMatchObject({ code: 'invalid_type', path: '' });
  });

  it('bounds the stored size and never serialises hostile nesting', () => {
    const big = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, 'x'.repeat(4000)]));
    // Multi-byte characters count as their UTF-8 bytes: 'é' is 2 bytes, so these 18000 characters are 36000 bytes.
    const accented = Object.fromEntries(Array.from({ length: 2 }, (_, i) => [`k${i}`, 'é'.repeat(6000)]));
    const ctx = { a: 'é'.repeat(3000), b: 'é'.repeat(3000) };
    expect(
      rejected(run({ event: 'e', userId: 'u', properties: accented, context: ctx })).reasons[0],
    ).toMatchObject({
      code: 'too_large',
    });
    expect(rejected(run({ event: 'e', userId: 'u', properties: big })).reasons[0]).toMatchObject({
      code: 'too_large',
      path: '',
    });
    let deep: unknown = {};
    for (let i = 0; i < 200_000; i++) deep = { d: deep };
    expect(rejected(run({ event: 'e', userId: 'u', properties: deep })).reasons[0]!.code).toBe('too_deep');
  });
});

describe('numericValue: the one derivation of an event value', () => {
  it('takes properties.value, else properties.revenue, as a finite number or numeric string', () => {
    expect(numericValue({ value: 3.5, revenue: 9 })).toBe(3.5);
    expect(numericValue({ revenue: 10 })).toBe(10);
    expect(numericValue({ value: '12.5' })).toBe(12.5);
    expect(numericValue({ value: 'x', revenue: '4' })).toBe(4);
    expect(numericValue({ value: ' ' })).toBeNull();
    expect(numericValue({ value: 'Infinity' })).toBeNull();
    expect(numericValue({ value: true })).toBeNull();
    expect(numericValue({})).toBeNull();
  });
});
