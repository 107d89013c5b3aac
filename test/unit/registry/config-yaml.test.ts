import YAML from 'yaml';
import { diff, canonicalJson } from '../../../services/registry/core/json-diff';
import { newExperiment } from '../../../services/registry/experiments/model';
import { evaluate } from '@xp-platform/evaluation';
import {
  ConfigParseError,
  exportConfig,
  parseConfig,
  planImport,
} from '../../../services/registry/config-as-code/yaml';

const ENVS = ['development', 'staging', 'production'];

describe('YAML configuration: plain form', () => {
  const set = parseConfig(
    'features: {new_checkout: true, button_color: {variant_a: "blue", variant_b: "red"}, max_items: 20}',
    ENVS,
  );

  it('makes a boolean flag, on everywhere', () => {
    const flag = set.flags.find((f) => f.key === 'new_checkout')!;
    expect(flag.valueType).toBe('boolean');
    expect(Object.keys(flag.environments).sort()).toEqual([...ENVS].sort());
    expect(flag.environments.production).toEqual({
      enabled: true,
      defaultValue: true,
      offValue: false,
      rules: [],
    });
    expect(evaluate(flag, { userId: 'u' }, { environment: 'production' })).toMatchObject({
      value: true,
      reason: 'STATIC',
    });
  });

  it('makes a string flag split evenly over its named variants', () => {
    const flag = set.flags.find((f) => f.key === 'button_color')!;
    expect(flag.valueType).toBe('string');
    const split = flag.environments.production!.rules[0]!.split!;
    expect(split).toMatchObject({ seed: 'button_color', hashAttribute: 'userId', coverage: 1 });
    expect(split.variants).toEqual([
      { id: 'variant_a', value: 'blue', weight: 1 },
      { id: 'variant_b', value: 'red', weight: 1 },
    ]);
    const seen = new Set<unknown>();
    for (let i = 0; i < 200; i++)
      seen.add(evaluate(flag, { userId: `u${i}` }, { environment: 'staging' }).value);
    expect([...seen].sort()).toEqual(['blue', 'red']);
  });

  it('makes static flags of other scalar types', () => {
    expect(set.flags.find((f) => f.key === 'max_items')).toMatchObject({ valueType: 'number' });
  });
});

describe('YAML configuration: full form', () => {
  const full = `
version: 1
segments:
  fr:
    conditions:
      - { attribute: country, operator: eq, value: FR }
flags:
  checkout:
    type: release
    valueType: boolean
    environments:
      production:
        enabled: true
        defaultValue: false
        offValue: false
        rules:
          - id: fr
            conditions: []
            segments: [fr]
            value: true
          - id: ramp
            conditions: []
            rollout: { percentage: 25, value: true }
experiments:
  btn:
    name: Button colour
    owner: alice
    hypothesis: Red wins
    flagKey: checkout
    variants:
      - { key: a, weight: 1, value: true }
      - { key: b, weight: 1, value: false }
`;

  it('parses every section and fills defaults', () => {
    const set = parseConfig(full, ENVS);
    expect(set.segments).toEqual([
      { key: 'fr', description: '', conditions: [{ attribute: 'country', operator: 'eq', value: 'FR' }] },
    ]);
    const flag = set.flags[0]!;
    expect(flag.environments.development).toEqual({
      enabled: false,
      defaultValue: false,
      offValue: false,
      rules: [],
    });
    expect(flag.environments.production!.rules[1]).toMatchObject({
      rollout: { hashAttribute: 'userId', percentage: 25 },
    });
    expect(set.experiments[0]).toMatchObject({
      key: 'btn',
      type: 'ab',
      trafficCoverage: 1,
      hashAttribute: 'userId',
    });
  });

  it('reports every problem with its path', () => {
    const bad = `
features: { dup: true }
flags:
  dup: { valueType: boolean }
  x: { valueType: colour, environments: { production: { enabled: 1, defaultValue: 1, offValue: 1 } } }
experiments:
  e: { owner: alice }
`;
    let error: ConfigParseError | undefined;
    try {
      parseConfig(bad, ENVS);
    } catch (err) {
      error = err as ConfigParseError;
    }
    expect(error).toBeInstanceOf(ConfigParseError);
    expect(error!.problems.map((p) => p.path)).toEqual(
      expect.arrayContaining([
        'features.dup',
        'flags.x.valueType',
        'flags.x.environments.production.enabled',
        'experiments.e.name',
      ]),
    );
  });

  it('round-trips: export, parse, export gives the same text and the same entities', () => {
    const set = parseConfig(full, ENVS);
    const experiments = set.experiments.map((e) => ({
      ...newExperiment(e, 'alice'),
      status: 'running' as const,
    }));
    const text = exportConfig({ segments: set.segments, flags: set.flags, experiments });
    // Governance state stays out of the file.
    expect(text).not.toMatch(/status|phases|approval/);
    const again = parseConfig(text, ENVS);
    expect(canonicalJson(again.flags)).toBe(canonicalJson(set.flags));
    expect(canonicalJson(again.segments)).toBe(canonicalJson(set.segments));
    const reExported = exportConfig({
      segments: again.segments,
      flags: again.flags,
      experiments: again.experiments.map((e) => ({
        ...newExperiment(e, 'alice'),
        status: 'running' as const,
      })),
    });
    expect(reExported).toBe(text);
    // Importing the export over the same state changes nothing.
    const plan = planImport({ segments: set.segments, flags: set.flags, experiments }, again);
    expect(plan).toEqual({ changes: [], conflicts: [], unchanged: 3 });
  });

  it('plans creates, updates with a diff, and refuses frozen changes', () => {
    const set = parseConfig(full, ENVS);
    const running = set.experiments.map((e) => ({
      ...newExperiment(e, 'alice'),
      status: 'running' as const,
    }));
    const edited = YAML.parse(
      exportConfig({ segments: set.segments, flags: set.flags, experiments: running }),
    );
    edited.flags.checkout.environments.production.enabled = false;
    edited.experiments.btn.variants[1].weight = 3;
    edited.flags.fresh = { valueType: 'string' };
    const plan = planImport(
      { segments: set.segments, flags: set.flags, experiments: running },
      parseConfig(YAML.stringify(edited), ENVS),
    );
    expect(plan.changes.map((c) => `${c.op} ${c.entityType} ${c.key}`)).toEqual([
      'update flag checkout',
      'create flag fresh',
      'update experiment btn',
    ]);
    expect(plan.changes[0]!.diff).toEqual([
      { path: 'environments.production.enabled', op: 'change', before: true, after: false },
    ]);
    expect(plan.conflicts).toEqual([
      {
        entityType: 'experiment',
        key: 'btn',
        problems: ['variants are frozen while running: start a new phase (POST /v1/experiments/btn/phases)'],
      },
    ]);
  });
});

describe('diff', () => {
  it('reports adds, removes and changes by path, key order ignored', () => {
    expect(diff({ a: 1, b: { c: [1, 2] }, d: 'x' }, { b: { c: [1, 3, 4] }, d: 'x', a: 1, e: null })).toEqual([
      { path: 'b.c.1', op: 'change', before: 2, after: 3 },
      { path: 'b.c.2', op: 'add', after: 4 },
      { path: 'e', op: 'add', after: null },
    ]);
    expect(diff({ a: 1 }, null)).toEqual([{ path: '', op: 'change', before: { a: 1 }, after: null }]);
    expect(diff(undefined, { a: 1 })).toEqual([{ path: '', op: 'add', after: { a: 1 } }]);
    expect(diff({ x: { y: 1 } }, { x: {} })).toEqual([{ path: 'x.y', op: 'remove', before: 1 }]);
    expect(diff({ a: [1] }, { a: [1] })).toEqual([]);
  });
});
