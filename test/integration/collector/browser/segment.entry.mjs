// Bundled with esbuild into a page by browser-clients.test.ts: Segment's analytics-next from
// npm, unchanged, with its settings given inline (no CDN) and the collector as its API host.
import { AnalyticsBrowser } from '@segment/analytics-next';

globalThis.runSegment = async ({ host, writeKey, userId, experiment }) => {
  const settings = (deliveryStrategy) => ({
    writeKey,
    cdnSettings: {
      integrations: {
        'Segment.io': { apiKey: writeKey, apiHost: `${host}/v1`, protocol: 'http', deliveryStrategy },
      },
    },
  });
  // Standard delivery: one request per call, on the short routes /v1/i /v1/t /v1/p.
  const [analytics] = await AnalyticsBrowser.load(settings(undefined), { retryQueue: true });
  await analytics.identify(userId, { plan: 'pro' });
  await analytics.track('Order Completed', { revenue: 9.5 });
  await analytics.page('Pricing');
  await analytics.track('Experiment Viewed', experiment);
  // Batching delivery: the calls go together to /v1/b.
  const [batching] = await AnalyticsBrowser.load(
    settings({ strategy: 'batching', config: { size: 10, timeout: 500 } }),
    { retryQueue: true },
  );
  await batching.identify(userId);
  for (let i = 0; i < 10; i++) void batching.track('Clicked', { i });
  return 'sent';
};
