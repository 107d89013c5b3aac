// Bundled with esbuild into a page by browser-clients.test.ts: RudderStack's JS SDK v3 from
// npm (the build with its plugins bundled, so nothing is loaded from its CDN), unchanged, with
// its source configuration given inline and the collector as its data plane.
import { RudderAnalytics } from '@rudderstack/analytics-js/bundled';

globalThis.runRudderStack = ({ host, writeKey, userId, experiment, batch }) =>
  new Promise((resolve) => {
    const analytics = new RudderAnalytics();
    analytics.load(writeKey, host, {
      getSourceConfig: () => ({
        source: {
          id: 'src',
          name: 'xp-browser-test',
          workspaceId: 'ws',
          enabled: true,
          config: {},
          destinations: [],
        },
      }),
      queueOptions: batch ? { batch: { enabled: true, maxItems: 10, flushInterval: 500 } } : undefined,
      onLoaded: () => {
        if (batch) {
          for (let i = 0; i < 10; i++) analytics.track('Clicked', { i });
        } else {
          analytics.identify(userId, { plan: 'pro' });
          analytics.track('Order Completed', { revenue: 9.5 });
          analytics.page('Pricing');
          analytics.track('Experiment Viewed', experiment);
        }
        resolve('sent');
      },
    });
  });
