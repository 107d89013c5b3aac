import { Analytics as SegmentAnalytics } from '@segment/analytics-node';
import RudderAnalytics from '@rudderstack/rudder-sdk-node';
import type { Exposure, TrackingEvent } from '../../../services/common/records';
import { WRITE_KEY, basicAuth, readAll, startCollector, type Harness } from './harness';

// The compatibility matrix of docs/producers.md: each tracking client, unchanged and with
// its default settings, pointed at the collector, sends track, identify, page and
// `Experiment Viewed` plus a batch; every event must be in Kafka exactly once. Browser
// libraries' wire formats (short routes, beacons, CORS) are replayed byte for byte here;
// test/integration/collector/browser-clients.test.ts drives the real libraries.

const run = Date.now().toString(36);
const EXPERIMENT = { experiment_id: 'checkout-button', variation_id: 'green' };

/** Every raw record of the harness, grouped by messageId; asserts each id appears once. */
async function exactlyOnce(h: Harness, expected: number): Promise<Map<string, TrackingEvent>> {
  const raw = await readAll<TrackingEvent>(h, h.topics.rawEvents);
  const byId = new Map<string, TrackingEvent>();
  const repeated = raw.filter((r) => byId.has(r.value.messageId) || !byId.set(r.value.messageId, r.value));
  expect(repeated.map((r) => r.value.messageId)).toEqual([]);
  expect(raw).toHaveLength(expected);
  return byId;
}

async function exposures(h: Harness): Promise<Exposure[]> {
  return (await readAll<Exposure>(h, h.topics.exposures)).map((r) => r.value);
}

describe('tracking clients, unchanged, against the collector', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startCollector();
  });
  afterEach(() => h.close());

  it('@segment/analytics-node: every call once', async () => {
    const analytics = new SegmentAnalytics({ writeKey: WRITE_KEY, host: h.url, flushAt: 3 });
    const errors: unknown[] = [];
    analytics.on('error', (err) => errors.push(err));
    const userId = `segment-${run}`;
    analytics.identify({ userId, traits: { plan: 'pro' } });
    analytics.track({ userId, event: 'Order Completed', properties: { revenue: 9.5 } });
    analytics.page({ userId, name: 'Pricing' });
    analytics.track({ userId, event: 'Experiment Viewed', properties: EXPERIMENT });
    // A burst the client batches itself (flushAt 3: several /v1/batch requests).
    for (let i = 0; i < 10; i++) analytics.track({ userId, event: 'Clicked', properties: { i } });
    await analytics.closeAndFlush({ timeout: 20_000 });
    expect(errors).toEqual([]);
    const events = await exactlyOnce(h, 14);
    expect([...events.values()].filter((e) => e.event === 'Clicked')).toHaveLength(10);
    expect(await exposures(h)).toHaveLength(1);
  });

  it('@rudderstack/rudder-sdk-node with default settings (gzip, form content type): every call once, device time kept', async () => {
    const failures: unknown[] = [];
    // Default settings but a long flush interval, so the events wait in the client's queue
    // and their originalTimestamp (set when queued) is visibly older than the send.
    const analytics = new RudderAnalytics(WRITE_KEY, {
      dataPlaneUrl: h.url,
      flushInterval: 60_000,
      logLevel: 'error',
      errorHandler: (err: unknown) => failures.push(err),
    });
    const userId = `rudder-${run}`;
    const explicit = new Date(Date.now() - 120_000);
    analytics.identify({ userId, traits: { plan: 'pro' } });
    analytics.track({ userId, event: 'Order Completed', properties: { revenue: 9.5 }, timestamp: explicit });
    analytics.page({ userId, name: 'Pricing', properties: { path: '/pricing' } });
    analytics.track({ userId, event: 'Experiment Viewed', properties: EXPERIMENT });
    for (let i = 0; i < 10; i++) analytics.track({ userId, event: 'Clicked', properties: { i } });
    await new Promise((r) => setTimeout(r, 1_500));
    await analytics.flush(); // one gzip batch of 14 events
    expect(failures).toEqual([]);
    const events = [...(await exactlyOnce(h, 14)).values()];
    const order = events.find((e) => e.event === 'Order Completed')!;
    expect(Math.abs(order.timestamp - explicit.getTime())).toBeLessThan(5_000);
    // originalTimestamp is honoured: the event time is when the call was made, not receipt.
    for (const e of events.filter((x) => x.event === 'Clicked')) {
      expect(e.originalTimestamp).not.toBeNull();
      expect(e.receivedAt - e.timestamp).toBeGreaterThanOrEqual(1_000);
    }
    expect(JSON.parse(order.context).library.name).toBe('analytics-node');
    expect(await exposures(h)).toHaveLength(1);
  });

  it('analytics.js wire format: short routes /v1/t /v1/i /v1/p /v1/s /v1/g /v1/a /v1/b, text/plain with the key in the body', async () => {
    const post = (path: string, body: Record<string, unknown>) =>
      fetch(h.url + path, {
        method: 'POST',
        // What analytics.js sends: no Authorization (that would need a preflight), text/plain.
        headers: { 'content-type': 'text/plain', origin: 'https://shop.example' },
        body: JSON.stringify({ ...body, writeKey: WRITE_KEY, sentAt: new Date().toISOString() }),
      });
    const anonymousId = `ajs-${run}`;
    const calls: [string, Record<string, unknown>][] = [
      ['/v1/t', { event: 'Order Completed', properties: { revenue: 3 } }],
      ['/v1/t', { event: 'Experiment Viewed', properties: EXPERIMENT }],
      ['/v1/i', { userId: 'u-1', traits: { plan: 'pro' } }],
      ['/v1/p', { name: 'Home', properties: { path: '/' } }],
      ['/v1/s', { name: 'Home' }],
      ['/v1/g', { groupId: 'g', traits: {} }],
      ['/v1/a', { userId: 'u-1', previousId: anonymousId }],
    ];
    for (const [i, [path, body]] of calls.entries()) {
      const res = await post(path, { anonymousId, messageId: `${run}-ajs-${i}`, ...body });
      expect([path, res.status]).toEqual([path, 200]);
      expect(res.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    }
    const batch = await post('/v1/b', {
      batch: Array.from({ length: 5 }, (_, i) => ({
        type: 'track',
        anonymousId,
        event: 'Clicked',
        properties: { i },
      })),
    });
    expect(batch.status).toBe(200);
    const events = await exactlyOnce(h, calls.length + 5);
    expect(new Set([...events.values()].map((e) => e.type))).toEqual(
      new Set(['track', 'identify', 'page', 'screen', 'group', 'alias']),
    );
    expect(await exposures(h)).toHaveLength(1);
  });

  it('RudderStack browser wire format: CORS with AnonymousId/SentAt, Basic auth, and the beacon route', async () => {
    const preflight = await fetch(`${h.url}/v1/batch`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://shop.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type,anonymousid,sentat',
      },
    });
    expect(preflight.status).toBe(204);
    const allowed = (preflight.headers.get('access-control-allow-headers') ?? '').toLowerCase();
    for (const name of ['authorization', 'content-type', 'anonymousid', 'sentat'])
      expect(allowed).toContain(name);

    const anonymousId = `rs-${run}`;
    const sentAt = new Date().toISOString();
    const event = (type: string, extra: Record<string, unknown>) => ({
      type,
      anonymousId,
      channel: 'web',
      originalTimestamp: sentAt,
      sentAt,
      context: { library: { name: 'RudderLabs JavaScript SDK' } },
      ...extra,
    });
    const xhr = async (path: string, body: Record<string, unknown>) =>
      fetch(h.url + path, {
        method: 'POST',
        headers: {
          'content-type': 'application/json;charset=UTF-8',
          authorization: basicAuth(),
          anonymousid: Buffer.from(anonymousId).toString('base64'),
          sentat: sentAt,
          origin: 'https://shop.example',
        },
        body: JSON.stringify(body),
      });
    for (const [path, body] of [
      ['/v1/track', event('track', { event: 'Order Completed', properties: { revenue: 1 } })],
      ['/v1/track', event('track', { event: 'Experiment Viewed', properties: EXPERIMENT })],
      ['/v1/identify', event('identify', { userId: 'u-2', traits: {} })],
      ['/v1/page', event('page', { name: 'Home', properties: {} })],
    ] as const) {
      expect((await xhr(path, body)).status).toBe(200);
    }
    // The beacon: navigator.sendBeacon cannot set headers, so the key is in the query string.
    const beacon = await fetch(`${h.url}/beacon/v1/batch?writeKey=${WRITE_KEY}`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8', origin: 'https://shop.example' },
      body: JSON.stringify({
        batch: [1, 2, 3].map((i) => event('track', { event: 'Clicked', properties: { i } })),
        sentAt,
      }),
    });
    expect(beacon.status).toBe(200);
    const events = await exactlyOnce(h, 7);
    expect([...events.values()].every((e) => e.originalTimestamp === Date.parse(sentAt))).toBe(true);
    expect(await exposures(h)).toHaveLength(1);
  });
});
