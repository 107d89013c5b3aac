// Writes cases.json: the language-neutral test cases every SDK runs (as GrowthBook's
// cases.json). Hash and bucket vectors are from Python's mmh3 (the C reference); evaluation
// expectations are the reference core's output on inputs chosen to cover docs/evaluation.md,
// each checked by hand-written assertions in test/evaluation.test.ts.
//   node packages/evaluation/cases/generate.mjs   (after `npm run build -w packages/evaluation`)
import { Buffer } from 'node:buffer';
import console from 'node:console';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { TextEncoder } from 'node:util';

const require = createRequire(import.meta.url);
const { evaluate, murmur3 } = require('../dist/index.cjs');
const ENV = 'production';
const hex = (s) => Buffer.from(s, 'utf8').toString('hex');

const hashing = [
  '',
  'a',
  'ab',
  'abc',
  'abcd',
  'hello',
  'héllo',
  '日本',
  '😀',
  'The quick brown fox jumps over the lazy dog',
].map((input) => ({ input, utf8Hex: hex(input), murmur3: murmur3(new TextEncoder().encode(input)) }));
const bucketing = [
  ['checkout-redesign', 'user-1'],
  ['checkout-redesign', 'user-2'],
  ['checkout-redesign@1', 'user-1'],
  ['coverage:checkout-redesign', 'user-1'],
  ['layer:homepage', 'user-1'],
  ['new-onboarding', '42'],
  ['pricing', 'héllo'],
  ['pricing', '日本'],
  ['pricing', '😀'],
  ['dark-mode', ''],
].map(([salt, unit]) => {
  const h = murmur3(new TextEncoder().encode(`${salt}:${unit}`));
  return { salt, unit, murmur3: h, bucket: h / 2 ** 32 };
});

function flag(key, env = {}, extra = {}) {
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
const split = (o = {}) => ({
  variants: [
    { id: 'control', value: 'a', weight: 50 },
    { id: 'treatment', value: 'b', weight: 50 },
  ],
  hashAttribute: 'userId',
  seed: 'checkout-redesign',
  coverage: 1,
  ...o,
});
const splitFlag = (s, key = 'checkout', rules = []) =>
  flag(key, {
    defaultValue: 'off',
    offValue: 'off',
    rules: [{ id: 'exp', conditions: [], split: s }, ...rules],
  });

const evaluation = [];
function add(group, name, f, context, { flags = {}, segments = {}, environment = ENV } = {}) {
  const all = { ...flags };
  if (f && typeof f === 'object' && typeof f.key === 'string') all[f.key] = f;
  const key = f && typeof f === 'object' && typeof f.key === 'string' ? f.key : 'malformed';
  if (!(key in all)) all[key] = f;
  const expected = JSON.parse(
    JSON.stringify(evaluate(all[key], context, { environment, flags: all, segments })),
  );
  evaluation.push({
    group,
    name,
    payload: { environment, flags: all, segments },
    flag: key,
    context,
    expected,
  });
}

// Every operator (a flag with one rule: the condition serves true, else the default false).
const conditions = [
  ['eq', 'FR', 'FR'],
  ['eq', 'FR', 'fr'],
  ['eq', 3, 3],
  ['eq', true, true],
  ['eq', 3, '3'],
  ['eq', 'a', ['a']],
  ['neq', 'FR', 'US'],
  ['neq', 'FR', 'FR'],
  ['neq', 'FR', 3],
  ['neq', 'FR', undefined],
  ['in', ['US', 'CA'], 'CA'],
  ['in', ['US', 'CA'], 'FR'],
  ['in', [1, 2], 2],
  ['in', [1, 2], '2'],
  ['in', ['beta', 'staff'], ['x', 'staff']],
  ['in', ['beta'], ['x']],
  ['in', 'US', 'US'],
  ['not_in', ['US', 'CA'], 'FR'],
  ['not_in', ['US', 'CA'], 'US'],
  ['not_in', ['beta'], ['x', 'beta']],
  ['not_in', ['US'], undefined],
  ['contains', 'corp', 'me@corp.example'],
  ['contains', 'corp', 'me@example.org'],
  ['contains', 'staff', ['beta', 'staff']],
  ['contains', 'sta', ['beta', 'staff']],
  ['contains', 1, 'a1'],
  ['starts_with', 'user-', 'user-9'],
  ['starts_with', 'user-', 'admin-9'],
  ['starts_with', 'x', 5],
  ['ends_with', '.example', 'corp.example'],
  ['ends_with', '.example', 'corp.org'],
  ['regex', '^u\\d+$', 'u123'],
  ['regex', '^u\\d+$', 'u12a'],
  ['regex', '^u', 12],
  ['regex', 'b', 'abc'],
  ['regex', '(', '('],
  ['regex', '^(a+)+$', `${'a'.repeat(40)}!`],
  ['regex', '(a)\\1', 'aa'],
  ['regex', '^a+$', 'a'.repeat(1025)],
  ['regex', 'é', 'café'],
  ['gt', 10, 11],
  ['gt', 10, 10],
  ['gte', 10, 10],
  ['gte', 10, 9.5],
  ['lt', 10, 9],
  ['lt', 10, 10],
  ['lte', 10, 10],
  ['lte', 10, 11],
  ['gt', 10, '11'],
  ['gt', '10', 11],
  ['semver_eq', '2.3.0', '2.3.0'],
  ['semver_eq', '2.3.0', 'v2.3'],
  ['semver_eq', '2.3.0', '2.3.0+build.5'],
  ['semver_eq', '2.3.0', '2.3.1'],
  ['semver_gt', '2.3.0', '2.10.0'],
  ['semver_gt', '2.3.0', '2.3.0'],
  ['semver_gte', '2.3.0', '2.3.0'],
  ['semver_gte', '2.3.0', '2.3.0-rc.1'],
  ['semver_lt', '2.0.0', '1.99.99'],
  ['semver_lt', '2.0.0', '2.0.0'],
  ['semver_lt', '1.0.0', '1.0.0-beta.11'],
  ['semver_lt', '1.0.0-beta.11', '1.0.0-beta.2'],
  ['semver_lte', '2.0.0', '2.0.0'],
  ['semver_lte', '2.0.0', '2.0.1'],
  ['semver_gte', '2.3.0', 'latest'],
  ['semver_lt', 'nonsense', '1.0.0'],
  ['semver_lt', '2.0.0', 1],
  ['exists', undefined, 'x'],
  ['exists', undefined, 0],
  ['exists', undefined, false],
  ['exists', undefined, null],
  ['exists', undefined, undefined],
  ['not_exists', undefined, undefined],
  ['not_exists', undefined, null],
  ['not_exists', undefined, ''],
  ['like', 'x', 'x'],
];
for (const [operator, value, actual] of conditions) {
  const condition =
    value === undefined ? { attribute: 'attr', operator } : { attribute: 'attr', operator, value };
  const f = flag('condition', { rules: [{ id: 'r', conditions: [condition], value: true }] });
  const context = actual === undefined ? {} : { attr: actual };
  add('operators', `${operator} ${JSON.stringify(value)} against ${JSON.stringify(actual)}`, f, context);
}
add(
  'operators',
  'an attribute named after an Object.prototype member does not exist',
  flag('condition', {
    rules: [{ id: 'r', conditions: [{ attribute: 'constructor', operator: 'exists' }], value: true }],
  }),
  {},
);

// Reasons.
add('reasons', 'STATIC: on without rules', flag('f', { defaultValue: true }), {});
add(
  'reasons',
  'DISABLED: the kill switch wins over rules',
  flag('f', { enabled: false, offValue: 'off', rules: [{ id: 'all', conditions: [], value: 'on' }] }),
  { userId: 'u' },
);
const targeted = flag('f', {
  defaultValue: 'default',
  rules: [
    { id: 'fr', conditions: [{ attribute: 'country', operator: 'eq', value: 'FR' }], value: 'bonjour' },
    { id: 'eu', conditions: [{ attribute: 'country', operator: 'in', value: ['FR', 'DE'] }], value: 'hallo' },
  ],
});
add('reasons', 'TARGETING_MATCH: the first matching rule', targeted, { country: 'FR' });
add('reasons', 'TARGETING_MATCH: a later rule', targeted, { country: 'DE' });
add('reasons', 'DEFAULT: no rule matches', targeted, { country: 'US' });
const both = flag('f', {
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
add('reasons', 'every condition of a rule must match', both, { country: 'FR', plan: 'free' });
add(
  'reasons',
  'JSON values are served as given',
  flag(
    'f',
    { defaultValue: {}, rules: [{ id: 'r', conditions: [], value: { layout: 'grid', columns: [2, 3] } }] },
    { valueType: 'json' },
  ),
  {},
);
add(
  'reasons',
  'a rule serving nothing is skipped',
  flag('f', { defaultValue: 'd', rules: [{ id: 'empty', conditions: [] }] }),
  {},
);

// Segments.
const segments = {
  beta: { key: 'beta', conditions: [{ attribute: 'groups', operator: 'contains', value: 'beta' }] },
  eu: { key: 'eu', conditions: [{ attribute: 'country', operator: 'in', value: ['FR', 'DE'] }] },
};
const seg = (keys, conds = []) =>
  flag('f', { rules: [{ id: 'seg', conditions: conds, segments: keys, value: true }] });
add(
  'segments',
  'every referenced segment matches',
  seg(['beta', 'eu']),
  { groups: ['beta'], country: 'FR' },
  { segments },
);
add(
  'segments',
  'one segment does not match',
  seg(['beta', 'eu']),
  { groups: ['beta'], country: 'US' },
  { segments },
);
add(
  'segments',
  'segments combine with conditions',
  seg(['eu'], [{ attribute: 'plan', operator: 'eq', value: 'pro' }]),
  { plan: 'free', country: 'DE' },
  { segments },
);
add('segments', 'an unknown segment never matches', seg(['nope']), { groups: ['beta'] }, { segments });
add('segments', '"constructor" is not a segment', seg(['constructor']), {}, { segments });

// Prerequisites.
const child = flag(
  'child',
  { defaultValue: 'new', offValue: 'old' },
  { prerequisites: [{ flag: 'parent', value: true }] },
);
add('prerequisites', 'met', child, {}, { flags: { parent: flag('parent', { defaultValue: true }) } });
add(
  'prerequisites',
  'another value: DISABLED',
  child,
  {},
  { flags: { parent: flag('parent', { defaultValue: false }) } },
);
add(
  'prerequisites',
  'a switched-off prerequisite is unmet',
  child,
  {},
  { flags: { parent: flag('parent', { enabled: false, offValue: true }) } },
);
const staffParent = flag('parent', {
  rules: [{ id: 'staff', conditions: [{ attribute: 'staff', operator: 'eq', value: true }], value: true }],
});
add(
  'prerequisites',
  'evaluated against the same context (met)',
  child,
  { staff: true },
  { flags: { parent: staffParent } },
);
add(
  'prerequisites',
  'evaluated against the same context (unmet)',
  child,
  { staff: false },
  { flags: { parent: staffParent } },
);
add(
  'prerequisites',
  'JSON values compare structurally',
  flag(
    'gated',
    { defaultValue: true },
    { prerequisites: [{ flag: 'config', value: { limits: [1, 2], tier: 'gold' } }] },
  ),
  {},
  {
    flags: {
      config: flag('config', { defaultValue: { tier: 'gold', limits: [1, 2] } }, { valueType: 'json' }),
    },
  },
);
add('prerequisites', 'missing: FLAG_NOT_FOUND', child, {});
const a = flag(
  'a',
  { defaultValue: true, offValue: 'a-off' },
  { prerequisites: [{ flag: 'b', value: true }] },
);
const b = flag('b', { defaultValue: true }, { prerequisites: [{ flag: 'c', value: true }] });
const c = flag('c', { defaultValue: true }, { prerequisites: [{ flag: 'a', value: true }] });
add('prerequisites', 'a cycle: PREREQUISITE_CYCLE', a, {}, { flags: { b, c } });
const base = flag('base', { defaultValue: true });
const left = flag('left', { defaultValue: true }, { prerequisites: [{ flag: 'base', value: true }] });
const right = flag('right', { defaultValue: true }, { prerequisites: [{ flag: 'base', value: true }] });
add(
  'prerequisites',
  'a diamond is not a cycle',
  flag(
    'top',
    { defaultValue: 'on' },
    {
      prerequisites: [
        { flag: 'left', value: true },
        { flag: 'right', value: true },
      ],
    },
  ),
  {},
  { flags: { base, left, right } },
);
add(
  'prerequisites',
  'a prerequisite error propagates',
  child,
  {},
  { flags: { parent: { ...flag('parent'), environments: {} } } },
);

// Rollouts.
const ramp = (p, seed) =>
  flag('new-onboarding', {
    rules: [
      {
        id: 'ramp',
        conditions: [],
        rollout:
          seed === undefined
            ? { percentage: p, value: true, hashAttribute: 'userId' }
            : { percentage: p, value: true, hashAttribute: 'userId', seed },
      },
    ],
  });
add('rollouts', '58%: bucket 0.5708 is in', ramp(58), { userId: '42' });
add('rollouts', '57%: bucket 0.5708 is out', ramp(57), { userId: '42' });
add('rollouts', 'a number unit hashes as its decimal text', ramp(58), { userId: 42 });
add('rollouts', '0% serves nobody', ramp(0), { userId: 'user-1' });
add('rollouts', '100% serves everybody', ramp(100), { userId: 'user-1' });
for (const u of ['user-1', 'user-2', 'user-3', 'user-4', 'user-5', 'user-6'])
  add('rollouts', `50% with seed "s": ${u}`, ramp(50, 's'), { userId: u });
for (const context of [{}, { userId: '' }, { userId: null }, { userId: true }, { userId: ['a'] }])
  add('rollouts', `no usable unit: ${JSON.stringify(context)}`, ramp(100), context);

// Splits.
for (let i = 1; i <= 10; i++)
  add('splits', `50/50: user-${i}`, splitFlag(split({ experimentKey: 'checkout-redesign' })), {
    userId: `user-${i}`,
  });
add('splits', 'experiment key defaults to the flag key', splitFlag(split()), { userId: 'user-1' });
const weighted = split({
  variants: [
    { id: 'a', value: 'a', weight: 1 },
    { id: 'zero', value: 'z', weight: 0 },
    { id: 'negative', value: 'n', weight: -5 },
    { id: 'b', value: 'b', weight: 3 },
  ],
});
for (let i = 1; i <= 6; i++)
  add('splits', `weights 1/0/-5/3: user-${i}`, splitFlag(weighted), { userId: `user-${i}` });
add(
  'splits',
  'no positive weight falls through',
  splitFlag(split({ variants: [{ id: 'a', value: 'a', weight: 0 }] })),
  { userId: 'u' },
);
for (let i = 1; i <= 6; i++)
  add(
    'splits',
    `coverage 0.3 then a fallback rule: user-${i}`,
    splitFlag(split({ coverage: 0.3 }), 'checkout', [{ id: 'fallback', conditions: [], value: 'fallback' }]),
    { userId: `user-${i}` },
  );
add('splits', 'missing hash attribute', splitFlag(split()), { deviceId: 'd' });
add('splits', 'another hash attribute', splitFlag(split({ hashAttribute: 'deviceId' })), {
  deviceId: 'user-1',
});
add(
  'splits',
  'three variants 20/30/50',
  splitFlag(
    split({
      variants: [
        { id: 'x', value: 1, weight: 20 },
        { id: 'y', value: 2, weight: 30 },
        { id: 'z', value: 3, weight: 50 },
      ],
    }),
  ),
  { userId: 'user-7' },
);

// Phases.
for (const phase of [0, 1, 2])
  for (const u of ['user-1', 'user-2', 'user-3'])
    add('phases', `phase ${phase}: ${u}`, splitFlag(split({ phase })), { userId: u });

// Layers.
for (const [start, end] of [
  [0, 0.5],
  [0.5, 1],
])
  for (const u of ['user-1', 'user-2', 'user-3', 'user-4'])
    add(
      'layers',
      `layer homepage [${start}, ${end}): ${u}`,
      splitFlag(split({ layer: { key: 'homepage', start, end } })),
      { userId: u },
    );

// Malformed input.
add('malformed', 'the environment is missing', flag('f'), {}, { environment: 'staging' });
add('malformed', '"__proto__" is not an environment', flag('f'), {}, { environment: '__proto__' });
add('malformed', 'a flag without environments', { key: 'f', environments: null }, {});
add('malformed', 'a flag that is not an object', 'flag', {});
add('malformed', 'a flag that is null', null, {});
add(
  'malformed',
  'odd rule shapes never throw',
  flag('f', {
    defaultValue: 'd',
    rules: [
      { id: 'a', conditions: [{ attribute: 'x', operator: 'eq' }], value: 1 },
      { id: 'b', conditions: [], split: split({ variants: [] }) },
      { id: 'c', conditions: [], rollout: { percentage: 'x', value: 1, hashAttribute: 'userId' } },
    ],
  }),
  { userId: 'u', x: 1 },
);
add('malformed', 'rules that are not a list', flag('f', { rules: 'nope' }), { userId: 'u' });

const cases = {
  description:
    'Language-neutral test cases for xp flag evaluation (spec: docs/evaluation.md). hashing: MurmurHash3 x86_32, seed 0, of the UTF-8 bytes of input. bucketing: murmur3(utf8(salt + ":" + unit)) / 2^32. evaluation: evaluate payload.flags[flag] for context in payload.environment with payload.segments and payload.flags; compare value, reason, variant, ruleId, experiment and errorCode (absent keys are absent).',
  version: 1,
  hashing,
  bucketing,
  evaluation,
};
writeFileSync(join(import.meta.dirname, 'cases.json'), `${JSON.stringify(cases, null, 2)}\n`);
console.log(
  `${hashing.length} hashing, ${bucketing.length} bucketing, ${evaluation.length} evaluation cases`,
);
