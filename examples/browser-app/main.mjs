/* global window, document, location, URLSearchParams */
// A page using the browser SDK as installed from npm. Settings come from the page's query
// string; what happens is written to window.xpLog (read by the test) and to the page.
import { createClient } from '@xp-platform/browser';

const q = new URLSearchParams(location.search);
const flagKey = q.get('flag') ?? 'checkout';
const context = { userId: q.get('user') ?? undefined };
const log = (window.xpLog = []);
const print = (line) => {
  log.push(line);
  document.body.insertAdjacentHTML('beforeend', `<pre>${JSON.stringify(line)}</pre>`);
};

const xp = createClient({
  registryUrl: q.get('registry'),
  sdkToken: q.get('token'),
  environment: q.get('environment') ?? 'production',
  collectorUrl: q.get('collector'),
  writeKey: q.get('writeKey'),
  events: { flushIntervalMs: 200 },
});
window.xp = xp;
xp.ready().then(
  async () => {
    print({
      event: 'ready',
      at: Date.now(),
      source: xp.source,
      anonymousId: xp.anonymousId,
      ...xp.evaluate(flagKey, context),
    });
    xp.on('change', ({ flagsChanged }) => {
      if (flagsChanged.includes(flagKey))
        print({ event: 'change', at: Date.now(), ...xp.evaluate(flagKey, context) });
    });
    await xp.flush();
    print({ event: 'flushed', at: Date.now(), delivered: xp.events?.delivered ?? 0 });
  },
  (err) => print({ event: 'error', message: String(err) }),
);
