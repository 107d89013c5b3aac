import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import cases from '@xp-platform/evaluation/cases.json';
import { createClient, XpNodeClient, XpTimeoutError, type Payload } from '../src';
import { flag, startFakeRegistry, waitFor, type FakeRegistry } from './fake-registry';

const split = {
  ...flag('checkout', 'off'),
  environments: {
    production: {
      enabled: true,
      defaultValue: 'off',
      offValue: 'off',
      rules: [
        {
          id: 'exp',
          conditions: [],
          split: {
            seed: 'checkout-redesign',
            experimentKey: 'checkout-redesign',
            hashAttribute: 'userId',
            coverage: 1,
            variants: [
              { id: 'control', value: 'a', weight: 50 },
              { id: 'treatment', value: 'b', weight: 50 },
            ],
          },
        },
      ],
    },
  },
};

let registry: FakeRegistry;
const clients: XpNodeClient[] = [];
const client = (o: Partial<ConstructorParameters<typeof XpNodeClient>[0]> = {}) => {
  const c = createClient({
    registryUrl: registry.url,
    sdkToken: 'sdk-token',
    environment: 'production',
    collectorUrl: registry.url,
    writeKey: 'wk',
    reconnectMinMs: 20,
    reconnectMaxMs: 50,
    pollIntervalMs: 50,
    flushOnExit: false,
    ...o,
  });
  clients.push(c);
  return c;
};

beforeEach(async () => {
  registry = await startFakeRegistry({ banner: flag('banner', true), checkout: split as never });
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close(100)));
  await registry.close();
});

describe('Node SDK', () => {
  it('becomes ready from the stream and evaluates locally', async () => {
    const c = client();
    await c.ready();
    expect(c.source).toBe('stream');
    expect(c.evaluate('banner', {})).toEqual({ value: true, reason: 'STATIC' });
    expect(c.value('missing', {}, 'fallback')).toBe('fallback');
    expect(c.evaluate('missing', {})).toMatchObject({ reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND' });
  });

  it('applies a kill switch pushed over the stream at once, with a change event', async () => {
    const c = client();
    await c.ready();
    const changes: unknown[] = [];
    c.on('change', (d) => changes.push(d));
    const started = Date.now();
    registry.setFlags({ banner: flag('banner', true, { enabled: false }), checkout: split as never });
    await waitFor(() => c.evaluate('banner', {}).reason === 'DISABLED');
    expect(Date.now() - started).toBeLessThan(500);
    expect(changes).toEqual([{ flagsChanged: ['banner'], source: 'stream' }]);
  });

  it('reconnects after the stream drops and catches up', async () => {
    const c = client();
    await c.ready();
    registry.dropStreams();
    await waitFor(() => registry.streamRequests >= 2);
    await waitFor(() => c.streaming);
    registry.setFlags({ banner: flag('banner', false) });
    await waitFor(() => c.evaluate('banner', {}).value === false);
  });

  it('falls back to polling while the stream fails, and stops polling once it is back', async () => {
    registry.streamStatus = 503;
    const c = client();
    await c.ready();
    expect(c.source).toBe('poll');
    registry.setFlags({ banner: flag('banner', 'polled') });
    await waitFor(() => c.evaluate('banner', {}).value === 'polled');
    registry.streamStatus = 0;
    await waitFor(() => c.streaming, 5_000);
    const polls = registry.payloadRequests;
    await new Promise((r) => setTimeout(r, 300));
    expect(registry.payloadRequests).toBe(polls);
  });

  it('rejects ready() after its timeout when the registry is unreachable, and keeps trying', async () => {
    const c = client({ registryUrl: 'http://127.0.0.1:9', readyTimeoutMs: 200 });
    await expect(c.ready()).rejects.toBeInstanceOf(XpTimeoutError);
    expect(c.evaluate('banner', {})).toMatchObject({ reason: 'ERROR' });
  });

  it('starts from a saved payload without the registry, and saves every update to its file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xp-node-'));
    const file = join(dir, 'payload.json');
    const online = client({ bootstrapFile: file });
    await online.ready();
    await waitFor(() => {
      try {
        return (JSON.parse(readFileSync(file, 'utf8')) as Payload).flags.banner !== undefined;
      } catch {
        return false;
      }
    });
    const offline = client({ registryUrl: 'http://127.0.0.1:9', bootstrapFile: file, readyTimeoutMs: 100 });
    await offline.ready();
    expect(offline.source).toBe('bootstrap');
    expect(offline.evaluate('banner', {}).value).toBe(true);
    const fromObject = client({ registryUrl: undefined, bootstrap: online.getPayload() });
    expect(fromObject.evaluate('banner', {}).value).toBe(true);
  });

  it('logs one Experiment Viewed per unit, experiment and variant, batched, flushed on close', async () => {
    const c = client({ events: { flushIntervalMs: 60_000 } });
    await c.ready();
    for (let i = 0; i < 50; i++) {
      c.evaluate('checkout', { userId: 'user-1' });
      c.evaluate('checkout', { userId: 'user-2' });
    }
    c.evaluate('banner', { userId: 'user-1' }); // not an experiment: no exposure
    c.track({ event: 'Order Completed', userId: 'user-1', properties: { revenue: 10 } });
    expect(registry.events).toHaveLength(0);
    await c.close();
    expect(
      registry.events.map((e) => [e.event, e.userId, (e.properties as Record<string, unknown>).variation_id]),
    ).toEqual([
      ['Experiment Viewed', 'user-1', 'treatment'],
      ['Experiment Viewed', 'user-2', 'control'],
      ['Order Completed', 'user-1', undefined],
    ]);
    expect(registry.events[0]).toMatchObject({
      type: 'track',
      properties: { experiment_id: 'checkout-redesign', phase: 0 },
      context: { library: { name: '@xp-platform/node' } },
    });
  });

  it('keeps events while the collector fails and delivers them once it recovers', async () => {
    registry.collectorStatus = 503;
    const c = client({ events: { flushIntervalMs: 10 } });
    await c.ready();
    c.track({ event: 'E', userId: 'u' });
    await new Promise((r) => setTimeout(r, 100));
    expect(registry.events).toHaveLength(0);
    registry.collectorStatus = 200;
    await waitFor(() => registry.events.length === 1, 10_000);
  });
});

describe('cases.json through the Node SDK', () => {
  const evaluation = cases.evaluation as unknown as Array<{
    group: string;
    name: string;
    payload: Payload;
    flag: string;
    context: Record<string, never>;
    expected: Record<string, unknown>;
  }>;
  it.each(evaluation.map((c) => [c.group, c.name, c]))('%s: %s', (_, __, c) => {
    const sdk = new XpNodeClient({
      environment: c.payload.environment,
      bootstrap: c.payload,
      flushOnExit: false,
    });
    expect(JSON.parse(JSON.stringify(sdk.evaluate(c.flag, c.context)))).toEqual(c.expected);
  });
});
