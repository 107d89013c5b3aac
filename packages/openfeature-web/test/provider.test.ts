import { OpenFeature, ProviderEvents, ErrorCode } from '@openfeature/web-sdk';
import { flag, startFakeRegistry, waitFor, type FakeRegistry } from '../../node/test/fake-registry';
import { XpWebProvider } from '../src';

// The browser SDK's storage and beacon paths are exercised in Chromium
// (test/integration/sdk/examples.test.ts), and cases.json runs through it there too
// (browser-cases.test.ts); here the provider runs in Node without them.
let registry: FakeRegistry;
beforeAll(async () => {
  registry = await startFakeRegistry({ banner: flag('banner', true), limit: flag('limit', 10) });
  await OpenFeature.setContext({ targetingKey: 'user-1' });
  await OpenFeature.setProviderAndWait(
    new XpWebProvider({ registryUrl: registry.url, sdkToken: 'sdk-token', environment: 'production' }),
  );
});
afterAll(async () => {
  await OpenFeature.close();
  await registry.close();
});

describe('XpWebProvider (OpenFeature web SDK)', () => {
  it('resolves synchronously with reasons and error codes', () => {
    const client = OpenFeature.getClient();
    expect(client.getBooleanDetails('banner', false)).toMatchObject({ value: true, reason: 'STATIC' });
    expect(client.getNumberValue('limit', 0)).toBe(10);
    expect(client.getBooleanDetails('missing', false)).toMatchObject({
      value: false,
      errorCode: ErrorCode.FLAG_NOT_FOUND,
    });
    expect(client.getStringDetails('banner', 'x')).toMatchObject({
      value: 'x',
      errorCode: ErrorCode.TYPE_MISMATCH,
    });
  });

  it('emits ConfigurationChanged on a pushed change', async () => {
    const seen: unknown[] = [];
    OpenFeature.addHandler(ProviderEvents.ConfigurationChanged, (d) => seen.push(d));
    registry.setFlags({ banner: flag('banner', true, { enabled: false }), limit: flag('limit', 10) });
    await waitFor(() => seen.length > 0);
    expect(seen[0]).toMatchObject({ flagsChanged: ['banner'] });
    expect(OpenFeature.getClient().getBooleanValue('banner', true)).toBe(false);
  });
});
