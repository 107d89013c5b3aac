import { Analytics } from '@segment/analytics-node';
import type { Exposure, TrackingEvent } from '../../../services/common/records';
import { WRITE_KEY, readAll, startCollector, type Harness } from './harness';

// Compatibility proof: Segment's own Node client, with its host pointed at the collector,
// delivers track, identify, page and Experiment Viewed calls that land in Kafka as records.
describe('collector with the real @segment/analytics-node client', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startCollector();
  });
  afterAll(() => h.close());

  it('delivers every call type through /v1/batch into the raw events and exposures topics', async () => {
    const analytics = new Analytics({ writeKey: WRITE_KEY, host: h.url, flushAt: 4, maxRetries: 1 });
    const errors: unknown[] = [];
    const statuses: number[] = [];
    analytics.on('error', (err) => errors.push(err));
    analytics.on('http_response', (res) => statuses.push(res.status));
    const userId = `segment-user-${Date.now()}`;
    const timestamp = new Date(Date.now() - 60_000);

    analytics.identify({ userId, traits: { plan: 'pro', email: 'a@example.com' } });
    analytics.track({
      userId,
      event: 'Order Completed',
      properties: { revenue: 42.5, currency: 'EUR' },
      timestamp,
    });
    analytics.page({ anonymousId: 'anon-segment', name: 'Pricing', properties: { path: '/pricing' } });
    analytics.track({
      userId,
      event: 'Experiment Viewed',
      properties: { experiment_id: 'checkout-button', variation_id: 'green' },
    });
    analytics.screen({ userId, name: 'Home' });
    await analytics.closeAndFlush({ timeout: 20_000 });

    expect(errors).toEqual([]);
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.every((s) => s === 200)).toBe(true);

    const raw = await readAll<TrackingEvent>(h, h.topics.rawEvents);
    const byType = Object.fromEntries(raw.map((r) => [r.value.event ?? r.value.type, r]));
    expect(raw).toHaveLength(5);
    expect(byType.identify!.value).toMatchObject({
      type: 'identify',
      userId,
      unitId: userId,
      sourceId: 'it-source',
    });
    expect(JSON.parse(byType.identify!.value.traits!)).toEqual({ plan: 'pro', email: 'a@example.com' });

    const order = byType['Order Completed']!;
    expect(order.key).toBe(userId);
    expect(order.value.messageId).toMatch(/^node-next-/); // the client's own messageId is kept
    expect(JSON.parse(order.value.properties)).toEqual({ revenue: 42.5, currency: 'EUR' });
    expect(order.value.originalTimestamp).toBe(timestamp.getTime());
    expect(Math.abs(order.value.timestamp - timestamp.getTime())).toBeLessThan(5_000); // same clock: tiny skew
    expect(order.value.sentAt).not.toBeNull();
    const context = JSON.parse(order.value.context);
    expect(context.library.name).toBe('@segment/analytics-node');
    expect(context.userAgent).toBe('analytics-node-next/latest');
    expect(context.ip).toBe('127.0.0.0');

    expect(byType.Pricing!.value).toMatchObject({ type: 'page', unitId: 'anon-segment', userId: null });
    expect(byType.Home!.value).toMatchObject({ type: 'screen', event: 'Home' });

    const exposures = await readAll<Exposure>(h, h.topics.exposures);
    expect(exposures).toHaveLength(1);
    const viewed = byType['Experiment Viewed']!;
    expect(exposures[0]!.value).toMatchObject({
      messageId: viewed.value.messageId,
      unitId: userId,
      experimentKey: 'checkout-button',
      variationId: 'green',
      origin: 'collector',
    });
    // Same key and partition count, so the same partition: the enricher sees both together.
    expect([exposures[0]!.key, exposures[0]!.partition]).toEqual([viewed.key, viewed.partition]);
  });
});
