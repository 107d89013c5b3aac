import {
  compareSemver,
  evaluate,
  isUsableRegex,
  matchesCondition,
  type Condition,
  type ConditionValue,
  type ContextValue,
  type EvaluationContext,
  type Flag,
  type FlagEnvironment,
  type Operator,
  type Rule,
  type Segment,
  type Split,
} from '../src';

const ENV = 'production';

function flag(key: string, env: Partial<FlagEnvironment> = {}, extra: Partial<Flag> = {}): Flag {
  return {
    key,
    type: 'release',
    valueType: 'boolean',
    description: '',
    owner: 'team-a',
    tags: [],
    environments: { [ENV]: { enabled: true, defaultValue: false, offValue: false, rules: [], ...env } },
    ...extra,
  };
}

function split(overrides: Partial<Split> = {}): Split {
  return {
    variants: [
      { id: 'control', value: 'a', weight: 50 },
      { id: 'treatment', value: 'b', weight: 50 },
    ],
    hashAttribute: 'userId',
    seed: 'checkout-redesign',
    coverage: 1,
    ...overrides,
  };
}

const splitFlag = (s: Split, key = 'checkout') =>
  flag(key, { defaultValue: 'off', offValue: 'off', rules: [{ id: 'exp', conditions: [], split: s }] });

const users = (n: number, prefix = 'user-') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('conditions', () => {
  const cases: Array<[Operator, ConditionValue | undefined, ContextValue | undefined, boolean]> = [
    ['eq', 'FR', 'FR', true],
    ['eq', 'FR', 'fr', false],
    ['eq', 3, 3, true],
    ['eq', true, true, true],
    ['eq', 3, '3', false], // no coercion
    ['eq', 'a', ['a'], false],
    ['neq', 'FR', 'US', true],
    ['neq', 'FR', 'FR', false],
    ['neq', 'FR', 3, false], // type mismatch
    ['neq', 'FR', undefined, false], // missing attribute
    ['in', ['US', 'CA'], 'CA', true],
    ['in', ['US', 'CA'], 'FR', false],
    ['in', [1, 2], 2, true],
    ['in', [1, 2], '2', false],
    ['in', ['beta', 'staff'], ['x', 'staff'], true], // list attribute: any element
    ['in', ['beta'], ['x'], false],
    ['in', 'US', 'US', false], // value must be a list
    ['not_in', ['US', 'CA'], 'FR', true],
    ['not_in', ['US', 'CA'], 'US', false],
    ['not_in', ['beta'], ['x', 'beta'], false],
    ['not_in', ['US'], undefined, false],
    ['contains', 'corp', 'me@corp.example', true],
    ['contains', 'corp', 'me@example.org', false],
    ['contains', 'staff', ['beta', 'staff'], true],
    ['contains', 'sta', ['beta', 'staff'], false], // list: whole elements only
    ['contains', 1, 'a1', false],
    ['starts_with', 'user-', 'user-9', true],
    ['starts_with', 'user-', 'admin-9', false],
    ['starts_with', 'x', 5, false],
    ['ends_with', '.example', 'corp.example', true],
    ['ends_with', '.example', 'corp.org', false],
    ['regex', '^u\\d+$', 'u123', true],
    ['regex', '^u\\d+$', 'u12a', false],
    ['regex', '^u', 12, false],
    ['gt', 10, 11, true],
    ['gt', 10, 10, false],
    ['gte', 10, 10, true],
    ['gte', 10, 9.5, false],
    ['lt', 10, 9, true],
    ['lt', 10, 10, false],
    ['lte', 10, 10, true],
    ['lte', 10, 11, false],
    ['gt', 10, '11', false], // numeric operators need numbers
    ['gt', '10', 11, false],
    ['semver_eq', '2.3.0', '2.3.0', true],
    ['semver_eq', '2.3.0', 'v2.3', true], // leading v, missing patch
    ['semver_eq', '2.3.0', '2.3.0+build.5', true], // build metadata ignored
    ['semver_eq', '2.3.0', '2.3.1', false],
    ['semver_gt', '2.3.0', '2.10.0', true], // numeric, not lexical
    ['semver_gt', '2.3.0', '2.3.0', false],
    ['semver_gte', '2.3.0', '2.3.0', true],
    ['semver_gte', '2.3.0', '2.3.0-rc.1', false], // a prerelease precedes its release
    ['semver_lt', '2.0.0', '1.99.99', true],
    ['semver_lt', '2.0.0', '2.0.0', false],
    ['semver_lte', '2.0.0', '2.0.0', true],
    ['semver_lte', '2.0.0', '2.0.1', false],
    ['semver_gte', '2.3.0', 'latest', false], // invalid → false
    ['semver_lt', 'nonsense', '1.0.0', false],
    ['semver_lt', '2.0.0', 1, false],
    ['exists', undefined, 'x', true],
    ['exists', undefined, 0, true],
    ['exists', undefined, false, true],
    ['exists', undefined, null, false],
    ['exists', undefined, undefined, false],
    ['not_exists', undefined, undefined, true],
    ['not_exists', undefined, null, true],
    ['not_exists', undefined, '', false],
  ];

  it.each(cases)('%s %j against %j → %s', (operator, value, actual, expected) => {
    const context: EvaluationContext = actual === undefined ? {} : { attr: actual };
    expect(matchesCondition({ attribute: 'attr', operator, value }, context)).toBe(expected);
  });

  it('covers every operator', () => {
    const all: Operator[] = [
      'eq',
      'neq',
      'in',
      'not_in',
      'contains',
      'starts_with',
      'ends_with',
      'regex',
      'gt',
      'gte',
      'lt',
      'lte',
      'semver_eq',
      'semver_gt',
      'semver_gte',
      'semver_lt',
      'semver_lte',
      'exists',
      'not_exists',
    ];
    expect(new Set(cases.map((c) => c[0]))).toEqual(new Set(all));
  });

  it('never matches an unknown operator, a missing value, or an attribute from Object.prototype', () => {
    expect(matchesCondition({ attribute: 'a', operator: 'like' as Operator, value: 'x' }, { a: 'x' })).toBe(
      false,
    );
    expect(matchesCondition({ attribute: 'a', operator: 'eq' }, { a: 'x' })).toBe(false);
    expect(matchesCondition({ attribute: 'a', operator: 'in' }, { a: 'x' })).toBe(false);
    expect(matchesCondition({ attribute: 'constructor', operator: 'exists' }, {})).toBe(false);
    expect(matchesCondition({ attribute: '__proto__', operator: 'exists' }, {})).toBe(false);
    expect(matchesCondition({ attribute: 'toString', operator: 'not_exists' }, {})).toBe(true);
  });

  it('refuses invalid, overlong and overlong-subject regexes instead of throwing', () => {
    const regex = (value: string, attr: string) =>
      matchesCondition({ attribute: 'a', operator: 'regex', value }, { a: attr });
    expect(regex('(', '(')).toBe(false);
    expect(isUsableRegex('(')).toBe(false);
    expect(regex('a'.repeat(257), 'a'.repeat(257))).toBe(false);
    expect(isUsableRegex('^[a-z]+$')).toBe(true);
    expect(regex('^a+$', 'a'.repeat(1024))).toBe(true);
    expect(regex('^a+$', 'a'.repeat(1025))).toBe(false);
    // a cached pattern gives the same answer every time (no lastIndex state)
    expect([1, 2, 3].map(() => regex('b', 'abc'))).toEqual([true, true, true]);
  });

  it('evaluates regexes in linear time, even the catastrophic-backtracking classics', () => {
    const regex = (value: string, attr: string) =>
      matchesCondition({ attribute: 'a', operator: 'regex', value }, { a: attr });
    // Each takes seconds to years on a backtracking engine with these subjects
    // (`^(a+)+$` on 27 a's and a "!" blocked the registry 3.9 s, doubling per character).
    const catastrophic: [string, string][] = [
      ['^(a+)+$', `${'a'.repeat(1000)}!`],
      ['^(a|a)*$', `${'a'.repeat(1000)}!`],
      ['^(a|aa)+$', `${'a'.repeat(1000)}!`],
      ['(x+x+)+y', 'x'.repeat(1024)],
      ['^(\\w+\\s?)*$', `${'word '.repeat(200)}!`],
      [
        '^([a-zA-Z0-9])(([\\-.]|[_]+)?([a-zA-Z0-9]+))*(@){1}[a-z0-9]+[.]{1}(([a-z]{2,3})|([a-z]{2,3}[.]{1}[a-z]{2,3}))$',
        `${'a'.repeat(1000)}!`,
      ],
      ['(.*a){20}', 'a'.repeat(1000)],
    ];
    const started = performance.now();
    for (const [pattern, subject] of catastrophic) {
      expect(isUsableRegex(pattern)).toBe(true);
      regex(pattern, subject);
    }
    // Generous for a shared 2-core machine; a backtracking engine would not finish at all.
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(regex('^(a+)+$', 'aaaa')).toBe(true);
    expect(regex('^(a+)+$', 'aaa!')).toBe(false);
    // What RE2 cannot do in linear time it does not accept: the API refuses these patterns.
    expect(isUsableRegex('(a)\\1')).toBe(false);
    expect(isUsableRegex('(?=a)a')).toBe(false);
    expect(isUsableRegex('(?<!a)b')).toBe(false);
  });

  it('orders semver prereleases as semver.org §11 does', () => {
    const ordered = [
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
      '1.0.1',
      '1.1.0',
      '2.0.0',
    ];
    for (let i = 0; i < ordered.length - 1; i++) {
      expect(compareSemver(ordered[i]!, ordered[i + 1]!)).toBeLessThan(0);
      expect(compareSemver(ordered[i + 1]!, ordered[i]!)).toBeGreaterThan(0);
    }
    expect(compareSemver('1.2.3', 'V1.2.3')).toBe(0);
    expect(compareSemver('1.2.3', '1.2.3.4')).toBeNull();
    expect(compareSemver('1.2.3-', '1.2.3')).toBeNull();
    expect(compareSemver(' 1.2.3', '1.2.3')).toBeNull();
  });
});

describe('evaluate: reasons', () => {
  it('serves the default value with STATIC when on without rules', () => {
    expect(evaluate(flag('f', { defaultValue: true }), {}, { environment: ENV })).toEqual({
      value: true,
      reason: 'STATIC',
    });
  });

  it('serves the off value with DISABLED when the environment is off, whatever the rules', () => {
    const f = flag('f', {
      enabled: false,
      offValue: 'off',
      rules: [{ id: 'all', conditions: [], value: 'on' }],
    });
    expect(evaluate(f, { userId: 'u' }, { environment: ENV })).toEqual({ value: 'off', reason: 'DISABLED' });
  });

  it('serves the first matching targeting rule with TARGETING_MATCH and its id', () => {
    const f = flag('f', {
      defaultValue: 'default',
      rules: [
        { id: 'fr', conditions: [{ attribute: 'country', operator: 'eq', value: 'FR' }], value: 'bonjour' },
        {
          id: 'eu',
          conditions: [{ attribute: 'country', operator: 'in', value: ['FR', 'DE'] }],
          value: 'hallo',
        },
      ],
    });
    expect(evaluate(f, { country: 'FR' }, { environment: ENV })).toEqual({
      value: 'bonjour',
      reason: 'TARGETING_MATCH',
      ruleId: 'fr',
    });
    expect(evaluate(f, { country: 'DE' }, { environment: ENV })).toMatchObject({
      value: 'hallo',
      ruleId: 'eu',
    });
    expect(evaluate(f, { country: 'US' }, { environment: ENV })).toEqual({
      value: 'default',
      reason: 'DEFAULT',
    });
  });

  it('requires every condition of a rule', () => {
    const f = flag('f', {
      rules: [
        {
          id: 'pro-fr',
          conditions: [
            { attribute: 'country', operator: 'eq', value: 'FR' },
            { attribute: 'plan', operator: 'eq', value: 'pro' },
          ],
          value: true,
        },
      ],
    });
    expect(evaluate(f, { country: 'FR', plan: 'pro' }, { environment: ENV }).value).toBe(true);
    expect(evaluate(f, { country: 'FR', plan: 'free' }, { environment: ENV }).reason).toBe('DEFAULT');
  });

  it('serves JSON values as given', () => {
    const value = { layout: 'grid', columns: [2, 3] };
    const f = flag(
      'f',
      { defaultValue: {}, rules: [{ id: 'r', conditions: [], value }] },
      { valueType: 'json' },
    );
    expect(evaluate(f, {}, { environment: ENV }).value).toEqual(value);
  });

  it('skips a rule that serves nothing', () => {
    const f = flag('f', { defaultValue: 'd', rules: [{ id: 'empty', conditions: [] } as unknown as Rule] });
    expect(evaluate(f, {}, { environment: ENV })).toEqual({ value: 'd', reason: 'DEFAULT' });
  });
});

describe('evaluate: errors never throw', () => {
  it('reports MISSING_ENVIRONMENT with a null value', () => {
    for (const environment of ['staging', 'constructor', '__proto__', 'toString']) {
      expect(evaluate(flag('f'), {}, { environment })).toEqual({
        value: null,
        reason: 'ERROR',
        errorCode: 'MISSING_ENVIRONMENT',
      });
    }
  });

  it('reports GENERAL for malformed input', () => {
    const malformed: unknown[] = [null, {}, { key: 'f', environments: null }, 'flag'];
    for (const f of malformed) {
      expect(evaluate(f as Flag, {}, { environment: ENV })).toMatchObject({
        reason: 'ERROR',
        errorCode: 'GENERAL',
      });
    }
    const ruled = flag('f', {
      rules: [{ id: 'r', conditions: [{ attribute: 'a', operator: 'eq', value: 1 }], value: 1 }],
    });
    expect(evaluate(ruled, null as unknown as EvaluationContext, { environment: ENV })).toMatchObject({
      reason: 'ERROR',
      errorCode: 'GENERAL',
    });
    expect(evaluate(ruled, {}, undefined as never)).toMatchObject({ reason: 'ERROR' });
  });

  it('tolerates odd shapes without throwing', () => {
    const odd = flag('f', {
      defaultValue: 'd',
      rules: [
        { id: 'a', conditions: [{ attribute: 'x', operator: 'eq' } as Condition], value: 1 },
        { id: 'b', conditions: [], split: split({ variants: [] }) },
        { id: 'c', conditions: [], split: split({ coverage: Number.NaN }) },
        { id: 'd', conditions: [], rollout: { percentage: Number.NaN, value: 1, hashAttribute: 'userId' } },
      ],
    });
    expect(evaluate(odd, { userId: 'u', x: 1 }, { environment: ENV })).toEqual({
      value: 'd',
      reason: 'DEFAULT',
    });
  });
});

describe('evaluate: segments', () => {
  const segments: Record<string, Segment> = {
    beta: { key: 'beta', conditions: [{ attribute: 'groups', operator: 'contains', value: 'beta' }] },
    eu: { key: 'eu', conditions: [{ attribute: 'country', operator: 'in', value: ['FR', 'DE'] }] },
  };
  const f = (keys: string[]) =>
    flag('f', { rules: [{ id: 'seg', conditions: [], segments: keys, value: true }] });

  it('matches when every referenced segment matches', () => {
    const context = { groups: ['beta'], country: 'FR' };
    expect(evaluate(f(['beta', 'eu']), context, { environment: ENV, segments })).toMatchObject({
      value: true,
      reason: 'TARGETING_MATCH',
    });
    expect(
      evaluate(f(['beta', 'eu']), { ...context, country: 'US' }, { environment: ENV, segments }).reason,
    ).toBe('DEFAULT');
  });

  it('combines segments with the rule conditions', () => {
    const g = flag('g', {
      rules: [
        {
          id: 'r',
          conditions: [{ attribute: 'plan', operator: 'eq', value: 'pro' }],
          segments: ['eu'],
          value: true,
        },
      ],
    });
    expect(evaluate(g, { plan: 'pro', country: 'DE' }, { environment: ENV, segments }).value).toBe(true);
    expect(evaluate(g, { plan: 'free', country: 'DE' }, { environment: ENV, segments }).value).toBe(false);
  });

  it('does not match an unknown segment (or one without a segment map)', () => {
    expect(evaluate(f(['nope']), { groups: ['beta'] }, { environment: ENV, segments }).reason).toBe(
      'DEFAULT',
    );
    expect(evaluate(f(['constructor']), {}, { environment: ENV, segments }).reason).toBe('DEFAULT');
    expect(evaluate(f(['beta']), { groups: ['beta'] }, { environment: ENV }).reason).toBe('DEFAULT');
  });
});

describe('evaluate: prerequisites', () => {
  const parent = flag('parent', { defaultValue: true });
  const child = flag(
    'child',
    { defaultValue: 'new', offValue: 'old', rules: [] },
    { prerequisites: [{ flag: 'parent', value: true }] },
  );

  it('evaluates the flag when its prerequisites serve the required values', () => {
    expect(evaluate(child, {}, { environment: ENV, flags: { parent } })).toEqual({
      value: 'new',
      reason: 'STATIC',
    });
  });

  it('serves the off value with DISABLED when a prerequisite serves another value', () => {
    const off = flag('parent', { defaultValue: false });
    expect(evaluate(child, {}, { environment: ENV, flags: { parent: off } })).toEqual({
      value: 'old',
      reason: 'DISABLED',
    });
  });

  it('treats a switched-off prerequisite as unmet even if its off value equals the required value', () => {
    const off = flag('parent', { enabled: false, offValue: true });
    expect(evaluate(child, {}, { environment: ENV, flags: { parent: off } }).reason).toBe('DISABLED');
  });

  it('evaluates prerequisites against the same context', () => {
    const targeted = flag('parent', {
      rules: [
        { id: 'staff', conditions: [{ attribute: 'staff', operator: 'eq', value: true }], value: true },
      ],
    });
    const flags = { parent: targeted };
    expect(evaluate(child, { staff: true }, { environment: ENV, flags }).value).toBe('new');
    expect(evaluate(child, { staff: false }, { environment: ENV, flags }).value).toBe('old');
  });

  it('compares JSON prerequisite values structurally', () => {
    const config = flag('config', { defaultValue: { tier: 'gold', limits: [1, 2] } }, { valueType: 'json' });
    const gated = flag(
      'gated',
      { defaultValue: true },
      { prerequisites: [{ flag: 'config', value: { limits: [1, 2], tier: 'gold' } }] },
    );
    expect(evaluate(gated, {}, { environment: ENV, flags: { config } }).value).toBe(true);
    const other = flag('config', { defaultValue: { tier: 'gold', limits: [1] } }, { valueType: 'json' });
    expect(evaluate(gated, {}, { environment: ENV, flags: { config: other } }).reason).toBe('DISABLED');
  });

  it('reports FLAG_NOT_FOUND for a missing prerequisite, serving the off value', () => {
    expect(evaluate(child, {}, { environment: ENV })).toEqual({
      value: 'old',
      reason: 'ERROR',
      errorCode: 'FLAG_NOT_FOUND',
    });
    expect(evaluate(child, {}, { environment: ENV, flags: {} }).errorCode).toBe('FLAG_NOT_FOUND');
  });

  it('reports PREREQUISITE_CYCLE for a cycle, direct or indirect', () => {
    const a = flag(
      'a',
      { defaultValue: true, offValue: 'a-off' },
      { prerequisites: [{ flag: 'b', value: true }] },
    );
    const b = flag('b', { defaultValue: true }, { prerequisites: [{ flag: 'c', value: true }] });
    const c = flag('c', { defaultValue: true }, { prerequisites: [{ flag: 'a', value: true }] });
    const self = flag('self', { defaultValue: true }, { prerequisites: [{ flag: 'self', value: true }] });
    const flags = { a, b, c, self };
    expect(evaluate(a, {}, { environment: ENV, flags })).toEqual({
      value: 'a-off',
      reason: 'ERROR',
      errorCode: 'PREREQUISITE_CYCLE',
    });
    expect(evaluate(self, {}, { environment: ENV, flags }).errorCode).toBe('PREREQUISITE_CYCLE');
  });

  it('accepts a shared prerequisite reached twice (a diamond is not a cycle)', () => {
    const base = flag('base', { defaultValue: true });
    const left = flag('left', { defaultValue: true }, { prerequisites: [{ flag: 'base', value: true }] });
    const right = flag('right', { defaultValue: true }, { prerequisites: [{ flag: 'base', value: true }] });
    const top = flag(
      'top',
      { defaultValue: 'on' },
      {
        prerequisites: [
          { flag: 'left', value: true },
          { flag: 'right', value: true },
        ],
      },
    );
    expect(evaluate(top, {}, { environment: ENV, flags: { base, left, right } })).toEqual({
      value: 'on',
      reason: 'STATIC',
    });
  });

  it('propagates a prerequisite error such as a missing environment', () => {
    const elsewhere: Flag = { ...parent, environments: {} };
    expect(evaluate(child, {}, { environment: ENV, flags: { parent: elsewhere } })).toMatchObject({
      value: 'old',
      reason: 'ERROR',
      errorCode: 'MISSING_ENVIRONMENT',
    });
  });
});

describe('evaluate: rollouts', () => {
  const rollout = (percentage: number, seed?: string) =>
    flag('new-nav', {
      rules: [
        { id: 'ramp', conditions: [], rollout: { percentage, value: true, hashAttribute: 'userId', seed } },
      ],
    });
  const served = (f: Flag, ids: string[]) =>
    ids.filter((userId) => evaluate(f, { userId }, { environment: ENV }).value === true);
  const ids = users(20_000);

  it('serves nobody at 0% and everybody at 100%', () => {
    expect(served(rollout(0), ids)).toHaveLength(0);
    expect(served(rollout(100), ids)).toHaveLength(ids.length);
  });

  it('serves units whose bucket for the flag key is below the percentage, with TARGETING_MATCH', () => {
    // bucket('new-onboarding', '42') = 0.5708277996163815 (docs/evaluation.md)
    const f = (p: number) =>
      flag('new-onboarding', {
        rules: [
          { id: 'ramp', conditions: [], rollout: { percentage: p, value: true, hashAttribute: 'userId' } },
        ],
      });
    expect(evaluate(f(58), { userId: '42' }, { environment: ENV })).toEqual({
      value: true,
      reason: 'TARGETING_MATCH',
      ruleId: 'ramp',
    });
    expect(evaluate(f(57), { userId: '42' }, { environment: ENV })).toEqual({
      value: false,
      reason: 'DEFAULT',
    });
    expect(evaluate(f(58), { userId: 42 }, { environment: ENV }).value).toBe(true); // numbers hash as decimal text
  });

  it('only adds units as the percentage rises', () => {
    const at10 = new Set(served(rollout(10), ids));
    const at30 = new Set(served(rollout(30), ids));
    expect([...at10].every((id) => at30.has(id))).toBe(true);
    expect(at10.size / ids.length).toBeCloseTo(0.1, 1);
    expect(at30.size / ids.length).toBeCloseTo(0.3, 1);
  });

  it('uses the seed when given', () => {
    expect(served(rollout(50, 'other'), ids)).not.toEqual(served(rollout(50), ids));
  });

  it('falls through to the next rule for units outside the rollout', () => {
    const f = flag('f', {
      defaultValue: 'default',
      rules: [
        {
          id: 'ramp',
          conditions: [],
          rollout: { percentage: 50, value: 'new', hashAttribute: 'userId', seed: 's' },
        },
        { id: 'rest', conditions: [{ attribute: 'plan', operator: 'eq', value: 'pro' }], value: 'pro' },
      ],
    });
    const values = new Set(
      ids.slice(0, 200).map((userId) => evaluate(f, { userId, plan: 'pro' }, { environment: ENV }).value),
    );
    expect(values).toEqual(new Set(['new', 'pro']));
  });

  it('skips the rule when the hash attribute is missing, empty or not a string or number', () => {
    const f = flag('f', {
      defaultValue: 'default',
      rules: [
        { id: 'ramp', conditions: [], rollout: { percentage: 100, value: 'new', hashAttribute: 'userId' } },
      ],
    });
    const contexts: EvaluationContext[] = [
      {},
      { userId: '' },
      { userId: null },
      { userId: true },
      { userId: ['a'] },
      { userId: Number.NaN },
    ];
    for (const context of contexts) {
      expect(evaluate(f, context, { environment: ENV })).toEqual({ value: 'default', reason: 'DEFAULT' });
    }
  });
});

describe('evaluate: splits', () => {
  it('assigns a variant with SPLIT, the rule id and the experiment for exposure logging', () => {
    // bucket('checkout-redesign', 'user-1') = 0.51998… → treatment; 'user-2' = 0.0605… → control
    const f = splitFlag(split({ experimentKey: 'checkout-redesign' }));
    expect(evaluate(f, { userId: 'user-1' }, { environment: ENV })).toEqual({
      value: 'b',
      reason: 'SPLIT',
      variant: 'treatment',
      ruleId: 'exp',
      experiment: { key: 'checkout-redesign', variationId: 'treatment', phase: 0 },
    });
    expect(evaluate(f, { userId: 'user-2' }, { environment: ENV })).toMatchObject({
      value: 'a',
      variant: 'control',
    });
  });

  it('names the experiment after the flag when no experiment key is given', () => {
    const r = evaluate(splitFlag(split(), 'checkout'), { userId: 'user-1' }, { environment: ENV });
    expect(r.experiment).toEqual({ key: 'checkout', variationId: 'treatment', phase: 0 });
  });

  it('never assigns a variant of weight 0, and falls through when no weight is positive', () => {
    const s = split({
      variants: [
        { id: 'a', value: 'a', weight: 1 },
        { id: 'zero', value: 'z', weight: 0 },
        { id: 'negative', value: 'n', weight: -5 },
        { id: 'b', value: 'b', weight: 1 },
      ],
    });
    const seen = new Set(
      users(2000).map((userId) => evaluate(splitFlag(s), { userId }, { environment: ENV }).variant),
    );
    expect(seen).toEqual(new Set(['a', 'b']));
    const none = split({ variants: [{ id: 'a', value: 'a', weight: 0 }] });
    expect(evaluate(splitFlag(none), { userId: 'u' }, { environment: ENV })).toEqual({
      value: 'off',
      reason: 'DEFAULT',
    });
  });

  it('lets units outside the coverage fall through to the next rule', () => {
    const f = flag('f', {
      defaultValue: 'default',
      rules: [
        { id: 'exp', conditions: [], split: split({ coverage: 0.2 }) },
        { id: 'fallback', conditions: [], value: 'fallback' },
      ],
    });
    const results = users(20_000).map((userId) => evaluate(f, { userId }, { environment: ENV }));
    const inSplit = results.filter((r) => r.reason === 'SPLIT').length / results.length;
    expect(inSplit).toBeCloseTo(0.2, 1);
    expect(results.filter((r) => r.reason !== 'SPLIT').every((r) => r.ruleId === 'fallback')).toBe(true);
    const none = splitFlag(split({ coverage: 0 }));
    expect(
      users(1000).some((userId) => evaluate(none, { userId }, { environment: ENV }).reason === 'SPLIT'),
    ).toBe(false);
  });

  it('keeps every admitted unit in its variant when coverage rises', () => {
    const at = (coverage: number) => {
      const f = splitFlag(split({ coverage }));
      return new Map(
        users(10_000).map((userId) => [userId, evaluate(f, { userId }, { environment: ENV }).variant]),
      );
    };
    const low = at(0.3);
    const high = at(0.8);
    for (const [id, variant] of low) if (variant !== undefined) expect(high.get(id)).toBe(variant);
  });

  it('re-randomises on a new phase and reports the phase', () => {
    const ids = users(10_000);
    const variants = (phase: number | undefined) =>
      ids.map((userId) => evaluate(splitFlag(split({ phase })), { userId }, { environment: ENV }).variant);
    const phase0 = variants(undefined);
    expect(variants(0)).toEqual(phase0); // phase 0 is the bare seed
    const phase1 = variants(1);
    const changed = phase1.filter((v, i) => v !== phase0[i]).length / ids.length;
    expect(changed).toBeGreaterThan(0.45); // about half, for a 50/50 split
    expect(changed).toBeLessThan(0.55);
    expect(
      evaluate(splitFlag(split({ phase: 1 })), { userId: 'user-1' }, { environment: ENV }).experiment?.phase,
    ).toBe(1);
  });

  it('skips the split when the hash attribute is missing', () => {
    expect(evaluate(splitFlag(split()), { deviceId: 'd' }, { environment: ENV })).toEqual({
      value: 'off',
      reason: 'DEFAULT',
    });
  });

  it('hashes the chosen attribute', () => {
    const f = splitFlag(split({ hashAttribute: 'deviceId' }));
    expect(evaluate(f, { deviceId: 'user-1' }, { environment: ENV }).variant).toBe('treatment');
  });
});

describe('evaluate: stickiness', () => {
  const ids = users(5_000);
  const assignments = (f: Flag, options: { environment: string; flags?: Record<string, Flag> }) =>
    ids.map((userId) => evaluate(f, { userId, country: 'FR' }, options).variant);

  it('gives a unit the same variant on every call', () => {
    const f = splitFlag(split());
    const first = assignments(f, { environment: ENV });
    expect(assignments(f, { environment: ENV })).toEqual(first);
    expect(first.every((v) => v === 'control' || v === 'treatment')).toBe(true);
  });

  it('keeps variants across unrelated changes to this flag and to other flags', () => {
    const f = splitFlag(split());
    const other = splitFlag(split({ seed: 'other' }), 'other');
    const before = assignments(f, { environment: ENV, flags: { other } });

    const edited: Flag = {
      ...f,
      description: 'now with a description',
      tags: ['checkout'],
      owner: 'team-b',
      environments: {
        staging: { enabled: false, defaultValue: 'x', offValue: 'x', rules: [] },
        [ENV]: {
          ...f.environments[ENV]!,
          defaultValue: 'changed',
          rules: [
            // a new rule ahead of the split that these units do not match
            {
              id: 'us-only',
              conditions: [{ attribute: 'country', operator: 'eq', value: 'US' }],
              value: 'us',
            },
            ...f.environments[ENV]!.rules,
          ],
        },
      },
    };
    const reweightedOther = splitFlag(
      split({
        seed: 'other',
        variants: [
          { id: 'x', value: 'x', weight: 1 },
          { id: 'y', value: 'y', weight: 9 },
        ],
      }),
      'other',
    );
    expect(assignments(edited, { environment: ENV, flags: { other: reweightedOther } })).toEqual(before);
  });

  it('restores the same variants after the kill switch is turned off and on', () => {
    const f = splitFlag(split());
    const before = assignments(f, { environment: ENV });
    const killed: Flag = { ...f, environments: { [ENV]: { ...f.environments[ENV]!, enabled: false } } };
    expect(assignments(killed, { environment: ENV }).every((v) => v === undefined)).toBe(true);
    expect(assignments(f, { environment: ENV })).toEqual(before);
  });
});
