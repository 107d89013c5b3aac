import { OpenFeature, ProviderEvents, ErrorCode } from '@openfeature/server-sdk';
import cases from '@xp-platform/evaluation/cases.json';
import type { Payload } from '@xp-platform/node';
import { flag, startFakeRegistry, waitFor, type FakeRegistry } from '../../node/test/fake-registry';
import { XpProvider } from '../src';

const experiment = {
  ...flag('checkout', 'off'),
  valueType: 'string',
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
beforeAll(async () => {
  registry = await startFakeRegistry({
    banner: flag('banner', true),
    limit: flag('limit', 10),
    checkout: experiment as never,
    layout: {
      ...flag('layout', 'x'),
      environments: {
        production: { enabled: true, defaultValue: { cols: 3 } as never, offValue: null, rules: [] },
      },
    },
  });
  await OpenFeature.setProviderAndWait(
    new XpProvider({
      registryUrl: registry.url,
      sdkToken: 'sdk-token',
      environment: 'production',
      collectorUrl: registry.url,
      writeKey: 'wk',
      flushOnExit: false,
      events: { flushIntervalMs: 20 },
    }),
  );
});
afterAll(async () => {
  await OpenFeature.close();
  await registry.close();
});

describe('XpProvider (OpenFeature server SDK)', () => {
  const client = () => OpenFeature.getClient();

  it('resolves typed values with reasons, variants and flag metadata', async () => {
    expect(await client().getBooleanValue('banner', false)).toBe(true);
    expect(await client().getNumberValue('limit', 0)).toBe(10);
    expect(await client().getObjectValue('layout', {})).toEqual({ cols: 3 });
    const details = await client().getStringDetails('checkout', 'default', { targetingKey: 'user-1' });
    expect(details).toMatchObject({
      value: 'b',
      reason: 'SPLIT',
      variant: 'treatment',
      flagMetadata: { ruleId: 'exp', experimentKey: 'checkout-redesign', variationId: 'treatment', phase: 0 },
    });
    expect((await client().getBooleanDetails('banner', false)).reason).toBe('STATIC');
  });

  it('answers OpenFeature error codes with the caller default', async () => {
    expect(await client().getBooleanDetails('missing', false)).toMatchObject({
      value: false,
      reason: 'ERROR',
      errorCode: ErrorCode.FLAG_NOT_FOUND,
    });
    expect(await client().getNumberDetails('banner', 7)).toMatchObject({
      value: 7,
      reason: 'ERROR',
      errorCode: ErrorCode.TYPE_MISMATCH,
    });
  });

  it('logs an exposure through its hook, once per unit and variant', async () => {
    for (let i = 0; i < 5; i++) await client().getStringValue('checkout', 'x', { targetingKey: 'user-2' });
    await waitFor(() => registry.events.some((e) => e.userId === 'user-2'));
    await new Promise((r) => setTimeout(r, 100));
    const exposures = registry.events.filter((e) => e.event === 'Experiment Viewed' && e.userId === 'user-2');
    expect(exposures).toHaveLength(1);
    expect(exposures[0]!.properties).toEqual({
      experiment_id: 'checkout-redesign',
      variation_id: 'control',
      phase: 0,
    });
  });

  it('emits ConfigurationChanged with the changed flags when the registry pushes a change', async () => {
    const seen: unknown[] = [];
    const handler = (d: unknown) => seen.push(d);
    OpenFeature.addHandler(ProviderEvents.ConfigurationChanged, handler);
    registry.setFlags({
      banner: flag('banner', true, { enabled: false }),
      limit: flag('limit', 10),
      checkout: experiment as never,
    });
    await waitFor(() => seen.length > 0);
    OpenFeature.removeHandler(ProviderEvents.ConfigurationChanged, handler);
    expect(seen[0]).toMatchObject({ flagsChanged: expect.arrayContaining(['banner', 'layout']) });
    expect(await client().getBooleanDetails('banner', true)).toMatchObject({
      value: false,
      reason: 'DISABLED',
    });
  });
});

describe('cases.json through the OpenFeature server provider', () => {
  const evaluation = (
    cases.evaluation as unknown as Array<{
      group: string;
      name: string;
      payload: Payload;
      flag: string;
      context: Record<string, never>;
      expected: { value: unknown; reason: string; variant?: string };
    }>
  ).filter((c) => c.expected.reason !== 'ERROR' && c.expected.value !== null);
  it.each(evaluation.map((c) => [c.group, c.name, c]))('%s: %s', async (_, __, c) => {
    const provider = new XpProvider({
      environment: c.payload.environment,
      bootstrap: c.payload,
      flushOnExit: false,
    });
    const v = c.expected.value;
    const type = typeof v === 'object' ? 'object' : (typeof v as 'boolean' | 'string' | 'number');
    const method = {
      boolean: 'resolveBooleanEvaluation',
      string: 'resolveStringEvaluation',
      number: 'resolveNumberEvaluation',
      object: 'resolveObjectEvaluation',
    }[type] as 'resolveBooleanEvaluation';
    const r = await provider[method](c.flag, undefined as never, c.context);
    expect(r.value).toEqual(v);
    expect(r.reason).toBe(c.expected.reason);
    if (c.expected.variant) expect(r.variant).toBe(c.expected.variant);
  });
});
