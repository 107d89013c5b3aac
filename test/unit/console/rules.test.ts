import {
  describeCondition,
  describeEnvironment,
  describeRule,
  describeWeights,
} from '../../../console/src/rules';

describe('flag rules in words (console)', () => {
  it('reads conditions and targeting rules', () => {
    expect(
      describeRule({
        id: 'eu',
        conditions: [{ attribute: 'country', operator: 'in', value: ['DE', 'FR'] }],
        value: 'green',
      }),
    ).toBe("if country is one of DE, FR → 'green'");
    expect(describeCondition({ attribute: 'email', operator: 'ends_with', value: '@example.com' })).toBe(
      'email ends with @example.com',
    );
    expect(describeCondition({ attribute: 'beta', operator: 'exists' })).toBe('beta is set');
    expect(describeCondition({ attribute: 'path', operator: 'regex', value: '^/shop' })).toBe(
      'path matches /^/shop/',
    );
    expect(
      describeRule({
        id: 'x',
        segments: ['staff'],
        conditions: [{ attribute: 'appVersion', operator: 'semver_gte', value: '2.1.0' }],
        value: true,
      }),
    ).toBe('if in segment staff and appVersion is version or after 2.1.0 → true');
  });

  it('reads splits and rollouts', () => {
    expect(
      describeRule({
        id: 'exp:btn',
        conditions: [],
        split: {
          variants: [
            { id: 'control', value: 'blue', weight: 50 },
            { id: 'treatment', value: 'green', weight: 50 },
          ],
          hashAttribute: 'userId',
        },
      }),
    ).toBe('everyone → 50/50 split control/treatment by userId');
    expect(
      describeRule({
        id: 'exp:btn',
        conditions: [{ attribute: 'country', operator: 'eq', value: 'DE' }],
        split: {
          variants: [
            { id: 'a', value: 1, weight: 1 },
            { id: 'b', value: 2, weight: 1 },
            { id: 'c', value: 3, weight: 1 },
          ],
          hashAttribute: 'deviceId',
          coverage: 0.2,
          experimentKey: 'btn',
          phase: 1,
          layer: { key: 'checkout', start: 0, end: 0.5 },
        },
      }),
    ).toBe(
      'if country is DE → 33.3/33.3/33.3 split a/b/c by deviceId (20% of them enter), layer checkout [0, 0.5); experiment btn, phase 1',
    );
    expect(describeRule({ id: 'r', rollout: { percentage: 10, value: true, hashAttribute: 'userId' } })).toBe(
      'everyone → true to 10% by userId, the others fall through',
    );
    expect(describeWeights([9, 1])).toBe('90/10');
  });

  it('reads a whole environment in evaluation order, or its off state', () => {
    const env = {
      enabled: true,
      defaultValue: 'blue',
      offValue: 'grey',
      rules: [{ id: 'a', conditions: [{ attribute: 'plan', operator: 'eq', value: 'pro' }], value: 'gold' }],
    };
    expect(describeEnvironment(env)).toEqual(["if plan is pro → 'gold'", "otherwise → 'blue'"]);
    expect(describeEnvironment({ ...env, enabled: false })).toEqual(["off: everyone gets 'grey'"]);
  });
});
