import { gzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import type { Exposure, FailedEvent, TrackingEvent } from '../../../services/common/records';
import { PublishError } from '../../../services/collector/publisher';
import { FakePublisher, KEY, WEB_KEY, basic, build, request, post } from './fixture';

// The HTTP side in-process, with the real Avro schemas and a publisher that records what
// it is given (./fixture). What reaches Kafka is tested in test/integration/collector.

describe('collector HTTP API', () => {
  let app: FastifyInstance;
  let publisher: FakePublisher;
  beforeEach(async () => {
    ({ app, publisher } = await build());
  });
  afterEach(() => app.close());

  it('accepts a track call and writes a raw event keyed by the unit', async () => {
    const res = await post(app, '/v1/track', {
      messageId: 'm-1',
      userId: 'u-1',
      event: 'Order Completed',
      properties: { revenue: 10 },
      sentAt: new Date().toISOString(),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ success: true, accepted: 1 });
    const [event] = publisher.on<TrackingEvent>('raw');
    expect(event).toMatchObject({
      key: 'u-1',
      messageId: 'm-1',
      type: 'track',
      sourceId: 'backend',
      unitId: 'u-1',
    });
    expect(JSON.parse(event!.context)).toEqual({ ip: '203.0.113.0', userAgent: 'test-agent' });
  });

  it('maps identify and page calls', async () => {
    expect((await post(app, '/v1/identify', { anonymousId: 'a', traits: { plan: 'pro' } })).statusCode).toBe(
      200,
    );
    expect((await post(app, '/v1/page', { anonymousId: 'a', name: 'Home' })).statusCode).toBe(200);
    expect(publisher.on<TrackingEvent>('raw').map((e) => [e.type, e.event, e.traits])).toEqual([
      ['identify', null, '{"plan":"pro"}'],
      ['page', 'Home', null],
    ]);
  });

  it('accepts the valid events of a batch and lists each rejected one with its reasons', async () => {
    const res = await post(app, '/v1/batch', {
      batch: [
        { type: 'track', messageId: 'ok-1', userId: 'u', event: 'A' },
        { type: 'track', messageId: 'bad-1', event: 'B' },
        { type: 'identify', messageId: 'ok-2', anonymousId: 'a' },
        { type: 'track', messageId: 'bad-2', userId: 7, event: 'C', properties: [1] },
      ],
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      success: true,
      accepted: 2,
      rejectedCount: 2,
      rejected: [
        {
          index: 1,
          messageId: 'bad-1',
          reasons: [
            { code: 'missing_identity', path: 'userId', message: 'userId or anonymousId is required' },
          ],
        },
        {
          index: 3,
          messageId: 'bad-2',
          reasons: [
            { code: 'invalid_type', path: 'properties', message: 'expected an object, got array' },
            { code: 'schema_violation', path: 'userId', message: 'mismatch' },
          ],
        },
      ],
    });
    expect(publisher.on<TrackingEvent>('raw').map((e) => e.messageId)).toEqual(['ok-1', 'ok-2']);
    const failed = publisher.on<FailedEvent>('failed');
    expect(failed.map((f) => [f.messageId, f.stage, f.sourceId, f.key === f.failureId])).toEqual([
      ['bad-1', 'collector', 'backend', true],
      ['bad-2', 'collector', 'backend', true],
    ]);
    expect(JSON.parse(failed[0]!.payload.toString())).toEqual({
      type: 'track',
      messageId: 'bad-1',
      event: 'B',
    });
    expect(failed[1]!.reasons.map((r) => r.code)).toEqual(['invalid_type', 'schema_violation']);
  });

  it('answers 400 when no event of the request is valid', async () => {
    const res = await post(app, '/v1/track', { messageId: 'x', userId: 'u' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ success: false, error: 'invalid_events', accepted: 0 });
    expect(res.json().rejected[0].reasons[0]).toEqual({
      code: 'missing_property',
      path: 'event',
      message: 'a track call needs an event name',
    });
    expect(publisher.on<FailedEvent>('failed')).toHaveLength(1);
  });

  it('routes Experiment Viewed to the exposures topic as well, with the same key and messageId', async () => {
    await post(app, '/v1/track', {
      messageId: 'exp-1',
      anonymousId: 'anon-7',
      event: 'Experiment Viewed',
      properties: { experiment_id: 'checkout-button', variation_id: 'blue' },
    });
    const [raw] = publisher.on<TrackingEvent>('raw');
    const [exposure] = publisher.on<Exposure>('exposures');
    expect(raw).toMatchObject({ key: 'anon-7', messageId: 'exp-1', event: 'Experiment Viewed' });
    expect(exposure).toMatchObject({
      key: 'anon-7',
      messageId: 'exp-1',
      unitId: 'anon-7',
      experimentKey: 'checkout-button',
      variationId: 'blue',
      origin: 'collector',
      timestamp: raw!.timestamp,
    });
  });

  it('accepts gzip bodies and refuses bombs and truncated streams', async () => {
    const body = gzipSync(JSON.stringify({ batch: [{ type: 'track', userId: 'u', event: 'Zipped' }] }));
    expect((await post(app, '/v1/batch', body, { 'content-encoding': 'gzip' })).json()).toEqual({
      success: true,
      accepted: 1,
    });
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024, 0x20));
    const bombed = await post(app, '/v1/batch', bomb, { 'content-encoding': 'gzip' });
    expect([bombed.statusCode, bombed.json().error]).toEqual([413, 'payload_too_large']);
    const cut = await post(app, '/v1/batch', body.subarray(0, body.length - 8), {
      'content-encoding': 'gzip',
    });
    expect([cut.statusCode, cut.json().error]).toEqual([400, 'invalid_gzip']);
  });

  it('gives the position of a JSON syntax error and keeps the body as a failed event', async () => {
    const res = await post(app, '/v1/batch', '{"batch": [{"type": "track",, }]}');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'invalid_json', position: 28 });
    const [failed] = publisher.on<FailedEvent>('failed');
    expect(failed!.payload.toString()).toBe('{"batch": [{"type": "track",, }]}');
    expect(failed!.reasons[0]).toMatchObject({ code: 'invalid_json', path: '' });
    const utf8 = await post(app, '/v1/track', Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d]));
    expect([utf8.statusCode, utf8.json().error]).toEqual([400, 'invalid_utf8']);
    const notObject = await post(app, '/v1/batch', '[1,2]');
    expect([notObject.statusCode, notObject.json().error]).toEqual([400, 'invalid_body']);
    expect(publisher.on<FailedEvent>('failed')).toHaveLength(3);
  });

  it('refuses oversized bodies and batches with 413', async () => {
    const big = await post(app, '/v1/track', {
      userId: 'u',
      event: 'e',
      properties: { s: 'x'.repeat(1024 * 1024) },
    });
    expect([big.statusCode, big.json().error]).toEqual([413, 'payload_too_large']);
    const many = Array.from({ length: 501 }, () => ({ type: 'track', userId: 'u', event: 'e' }));
    const tooMany = await post(app, '/v1/batch', { batch: many });
    expect([tooMany.statusCode, tooMany.json().error]).toEqual([413, 'too_many_events']);
    // 413 refuses without reading the body as events: nothing goes to Kafka.
    expect(publisher.records).toEqual([]);
  });

  it('wants a known write key: Basic username, X-Write-Key or a body writeKey', async () => {
    const event = { userId: 'u', event: 'e' };
    const missing = await post(app, '/v1/track', event, { authorization: '' });
    expect([missing.statusCode, missing.json().error, missing.headers['www-authenticate']]).toEqual([
      401,
      'missing_write_key',
      'Basic realm="collector"',
    ]);
    const unknown = await post(app, '/v1/track', event, { authorization: basic('nope-nope-nope') });
    expect([unknown.statusCode, unknown.json().error]).toEqual([401, 'unknown_write_key']);
    expect((await post(app, '/v1/track', event, { authorization: '', 'x-write-key': KEY })).statusCode).toBe(
      200,
    );
    // A beacon: text/plain (no preflight), the key in the body; it never reaches Kafka.
    const beacon = await post(app, '/v1/track', JSON.stringify({ ...event, writeKey: KEY, userId: 7 }), {
      authorization: '',
      'content-type': 'text/plain;charset=UTF-8',
    });
    expect(beacon.statusCode).toBe(400);
    expect(publisher.on<FailedEvent>('failed')[0]!.payload.toString()).not.toContain(KEY);
    expect(publisher.records.every((r) => !r.value.includes(KEY))).toBe(true);
    const xml = await post(app, '/v1/track', '<event/>', { 'content-type': 'application/xml' });
    expect([xml.statusCode, xml.json().error]).toEqual([415, 'unsupported_media_type']);
  });

  it('answers CORS preflights and holds each key to its own origins', async () => {
    const preflight = (origin: string) =>
      request(app, 'OPTIONS', '/v1/batch', {
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type',
        },
      });
    const allowed = await preflight('https://shop.example');
    expect(allowed.statusCode).toBe(204);
    expect(allowed.headers['access-control-allow-origin']).toBe('https://shop.example');
    expect(String(allowed.headers['access-control-allow-headers']).toLowerCase()).toContain('authorization');
    expect((await preflight('https://evil.example')).headers['access-control-allow-origin']).toBeUndefined();

    const event = { anonymousId: 'a', event: 'e' };
    const fromShop = await post(app, '/v1/track', event, {
      authorization: basic(WEB_KEY),
      origin: 'https://shop.example',
    });
    expect(fromShop.statusCode).toBe(200);
    expect(fromShop.headers['access-control-allow-origin']).toBe('https://shop.example');
    const fromEvil = await post(app, '/v1/track', event, {
      authorization: basic(WEB_KEY),
      origin: 'https://evil.example',
    });
    expect([fromEvil.statusCode, fromEvil.json().error]).toEqual([403, 'origin_not_allowed']);
    const serverKeyInBrowser = await post(app, '/v1/track', event, { origin: 'https://shop.example' });
    expect(serverKeyInBrowser.statusCode).toBe(403);
  });

  it('keeps the full IP when anonymisation is off and corrects clock skew', async () => {
    const { app: plain, publisher: pub } = await build({ anonymizeIp: false });
    const now = Date.now();
    const skew = 3_600_000; // the client's clock is an hour fast
    await post(plain, '/v1/track', {
      userId: 'u',
      event: 'e',
      timestamp: new Date(now + skew - 1000).toISOString(),
      sentAt: new Date(now + skew).toISOString(),
      context: { userAgent: 'Mozilla/5.0' },
    });
    const [event] = pub.on<TrackingEvent>('raw');
    expect(JSON.parse(event!.context)).toEqual({ ip: '203.0.113.9', userAgent: 'Mozilla/5.0' });
    expect(Math.abs(event!.timestamp - (now - 1000))).toBeLessThan(1000);
    expect(event!.timestamp - event!.receivedAt).toBe(event!.originalTimestamp! - event!.sentAt!);
    await plain.close();
  });

  it('rate-limits per write key with 429 and Retry-After', async () => {
    const { app: limited } = await build({ rateLimitMax: 2, rateLimitWindowMs: 60_000 });
    const event = { userId: 'u', event: 'e' };
    for (let i = 0; i < 2; i++) expect((await post(limited, '/v1/track', event)).statusCode).toBe(200);
    const third = await post(limited, '/v1/track', event);
    expect([third.statusCode, third.json().error]).toEqual([429, 'rate_limited']);
    expect(Number(third.headers['retry-after'])).toBeGreaterThan(0);
    // Another source has its own budget.
    expect((await post(limited, '/v1/track', event, { authorization: basic(WEB_KEY) })).statusCode).toBe(200);
    await limited.close();
  });

  it('answers 503 with Retry-After when Kafka is overloaded or unavailable, accepting nothing', async () => {
    publisher.failWith = new PublishError('overloaded', 'too many records in flight');
    const overloaded = await post(app, '/v1/track', { userId: 'u', event: 'e' });
    expect([overloaded.statusCode, overloaded.json().error, overloaded.headers['retry-after']]).toEqual([
      503,
      'overloaded',
      '1',
    ]);
    publisher.failWith = new PublishError('timeout', 'Kafka did not acknowledge within 5000 ms');
    const down = await post(app, '/v1/track', { userId: 'u', event: 'e' });
    expect([down.statusCode, down.json().error, down.headers['retry-after']]).toEqual([
      503,
      'kafka_unavailable',
      '5',
    ]);
  });

  it('counts requests, accepted and rejected events in /metrics', async () => {
    await post(app, '/v1/batch', {
      batch: [
        { type: 'track', userId: 'u', event: 'e' },
        { type: 'track', event: 'e' },
      ],
    });
    await post(app, '/v1/track', '{');
    const text = (await request(app, 'GET', '/metrics')).body;
    expect(text).toContain('collector_events_accepted_total{type="track"} 1');
    expect(text).toContain('collector_events_rejected_total{reason="missing_identity"} 1');
    expect(text).toContain('collector_events_rejected_total{reason="invalid_json"} 1');
    expect(text).toContain(
      'collector_requests_total{route="/v1/batch",status="200",code="partially_accepted"} 1',
    );
    expect(text).toMatch(
      /collector_requests_total\{route="\/v1\/track",status="400",code="invalid_json"\} 1/,
    );
    expect(text).toContain('collector_request_events_count 1');
  });
});
