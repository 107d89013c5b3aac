// An app using the Node SDK as installed from npm: evaluates one flag for one user, logs the
// exposure, and prints a JSON line at start and on every change (a kill switch arrives over
// the registry's stream). SIGTERM closes the client, which flushes queued events.
import process from 'node:process';
import { setInterval } from 'node:timers';
import { createClient } from '@xp-platform/node';

const env = (name, fallback) => process.env[name] ?? fallback;
const flagKey = env('XP_FLAG', 'checkout');
const context = { userId: env('XP_USER', 'user-1') };
const print = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);

const xp = createClient({
  registryUrl: env('XP_REGISTRY_URL', 'http://127.0.0.1:7070'),
  sdkToken: env('XP_SDK_TOKEN'),
  environment: env('XP_ENVIRONMENT', 'production'),
  collectorUrl: env('XP_COLLECTOR_URL', 'http://127.0.0.1:7071'),
  writeKey: env('XP_WRITE_KEY', 'local-dev-key'),
  events: { flushIntervalMs: 200 },
});

await xp.ready();
const first = xp.evaluate(flagKey, context);
print({ event: 'ready', at: Date.now(), source: xp.source, ...first });
xp.on('change', ({ flagsChanged }) => {
  if (!flagsChanged.includes(flagKey)) return;
  print({ event: 'change', at: Date.now(), ...xp.evaluate(flagKey, context) });
});
await xp.flush();
print({ event: 'flushed', at: Date.now(), delivered: xp.events?.delivered ?? 0 });

process.on('SIGTERM', async () => {
  await xp.close();
  print({ event: 'closed', at: Date.now() });
  process.exit(0);
});
setInterval(() => {}, 1 << 30); // stay up until SIGTERM
