// Statistical properties of assignment over 100k units: uniform (chi-square goodness of
// fit for every split), independent across experiments (chi-square test of independence),
// and exclusive within a layer. Each statistic must stay below the 99.9% critical value.

import { evaluate, type Flag, type Rule, type Split } from '@xp-platform/evaluation';

const ENV = 'production';
const UNITS = 100_000;

// Upper 0.1% points of the chi-square distribution, by degrees of freedom.
const CRITICAL_999: Record<number, number> = { 1: 10.828, 2: 13.816, 3: 16.266, 4: 18.467, 5: 20.515 };

function critical(df: number): number {
  const value = CRITICAL_999[df];
  if (value === undefined) throw new Error(`no critical value for ${df} degrees of freedom`);
  return value;
}

/** Pearson's statistic for observed counts against expected proportions. */
function goodnessOfFit(observed: number[], proportions: number[]): number {
  const n = observed.reduce((a, b) => a + b, 0);
  const total = proportions.reduce((a, b) => a + b, 0);
  return observed.reduce((sum, o, i) => {
    const e = (n * proportions[i]!) / total;
    return sum + (o - e) ** 2 / e;
  }, 0);
}

/** Pearson's statistic for independence of the rows and columns of a contingency table. */
function independence(table: number[][]): number {
  const rows = table.map((r) => r.reduce((a, b) => a + b, 0));
  const cols = table[0]!.map((_, j) => table.reduce((a, r) => a + r[j]!, 0));
  const n = rows.reduce((a, b) => a + b, 0);
  let stat = 0;
  table.forEach((r, i) =>
    r.forEach((o, j) => {
      const e = (rows[i]! * cols[j]!) / n;
      stat += (o - e) ** 2 / e;
    }),
  );
  return stat;
}

function flagWith(key: string, rule: Rule): Flag {
  return {
    key,
    type: 'experiment',
    valueType: 'string',
    description: '',
    owner: 'team-a',
    tags: [],
    environments: { [ENV]: { enabled: true, defaultValue: 'default', offValue: 'off', rules: [rule] } },
  };
}

function splitFlag(key: string, weights: number[], overrides: Partial<Split> = {}): Flag {
  const variants = weights.map((weight, i) => ({ id: `v${i}`, value: `v${i}`, weight }));
  return flagWith(key, {
    id: 'split',
    conditions: [],
    split: { variants, hashAttribute: 'userId', seed: key, coverage: 1, ...overrides },
  });
}

// Two id styles: prefixed strings and bare sequential integers (hashed as decimal text).
const ID_STYLES: Array<[string, (i: number) => string | number]> = [
  ['user-<i>', (i) => `user-${i}`],
  ['<i> as a number', (i) => i],
];

/** The outcome label (variant id, or the reason when no variant) per unit. */
function outcomes(f: Flag, id: (i: number) => string | number): string[] {
  const out = new Array<string>(UNITS);
  for (let i = 0; i < UNITS; i++) {
    const r = evaluate(f, { userId: id(i) }, { environment: ENV });
    out[i] = r.variant ?? r.reason;
  }
  return out;
}

function counts(labels: string[], categories: string[]): number[] {
  const index = new Map(categories.map((c, i) => [c, i]));
  const out = categories.map(() => 0);
  for (const l of labels) {
    const i = index.get(l);
    if (i === undefined) throw new Error(`unexpected outcome ${l}`);
    out[i]!++;
  }
  return out;
}

function crossTab(a: string[], aCategories: string[], b: string[], bCategories: string[]): number[][] {
  const table = aCategories.map(() => bCategories.map(() => 0));
  for (let i = 0; i < a.length; i++) {
    table[aCategories.indexOf(a[i]!)]![bCategories.indexOf(b[i]!)]!++;
  }
  return table;
}

const variantIds = (n: number) => Array.from({ length: n }, (_, i) => `v${i}`);

describe.each(ID_STYLES)('uniformity over %s', (_style, id) => {
  it.each([
    ['50/50', [50, 50]],
    ['33/33/34', [33, 33, 34]],
    ['10/90', [10, 90]],
    ['20/30/50', [20, 30, 50]],
    ['25/25/25/25', [1, 1, 1, 1]],
  ])('split %s fits its weights', (_name, weights) => {
    const observed = counts(outcomes(splitFlag('exp-uniform', weights), id), variantIds(weights.length));
    expect(goodnessOfFit(observed, weights)).toBeLessThan(critical(weights.length - 1));
  });

  it('25% rollout serves a quarter', () => {
    const f = flagWith('rollout-25', {
      id: 'ramp',
      conditions: [],
      rollout: { percentage: 25, value: 'on', hashAttribute: 'userId' },
    });
    const observed = counts(outcomes(f, id), ['TARGETING_MATCH', 'DEFAULT']);
    expect(goodnessOfFit(observed, [25, 75])).toBeLessThan(critical(1));
  });

  it('coverage 40% admits 40%, spread over the variants by weight', () => {
    const labels = outcomes(splitFlag('exp-coverage', [20, 30, 50], { coverage: 0.4 }), id);
    const observed = counts(labels, [...variantIds(3), 'DEFAULT']);
    expect(goodnessOfFit(observed, [0.4 * 20, 0.4 * 30, 0.4 * 50, 60])).toBeLessThan(critical(3));
  });
});

describe('independence between experiments', () => {
  const id = (i: number) => `user-${i}`;

  it('two 50/50 experiments (2x2)', () => {
    const a = outcomes(splitFlag('exp-a', [50, 50]), id);
    const b = outcomes(splitFlag('exp-b', [50, 50]), id);
    expect(independence(crossTab(a, variantIds(2), b, variantIds(2)))).toBeLessThan(critical(1));
  });

  it('a 33/33/34 and a 50/50 experiment (3x2)', () => {
    const a = outcomes(splitFlag('exp-c', [33, 33, 34]), id);
    const b = outcomes(splitFlag('exp-d', [50, 50]), id);
    expect(independence(crossTab(a, variantIds(3), b, variantIds(2)))).toBeLessThan(critical(2));
  });

  it('two phases of one experiment (re-randomisation)', () => {
    const phase0 = outcomes(splitFlag('exp-e', [50, 50]), id);
    const phase1 = outcomes(splitFlag('exp-e', [50, 50], { phase: 1 }), id);
    expect(independence(crossTab(phase0, variantIds(2), phase1, variantIds(2)))).toBeLessThan(critical(1));
  });

  it('a rollout and an experiment on the same units', () => {
    const rollout = flagWith('rollout-x', {
      id: 'ramp',
      conditions: [],
      rollout: { percentage: 30, value: 'on', hashAttribute: 'userId' },
    });
    const served = outcomes(rollout, id);
    const assigned = outcomes(splitFlag('exp-f', [50, 50]), id);
    const table = crossTab(served, ['TARGETING_MATCH', 'DEFAULT'], assigned, variantIds(2));
    expect(independence(table)).toBeLessThan(critical(1));
  });
});

describe('layers (mutual exclusion)', () => {
  const id = (i: number) => `user-${i}`;
  const inLayer = (key: string, start: number, end: number, layerKey = 'homepage') =>
    splitFlag(key, [50, 50], { layer: { key: layerKey, start, end } });

  it('never puts a unit in two experiments of one layer, and gives each its share', () => {
    const a = outcomes(inLayer('exp-layer-a', 0, 0.25), id);
    const b = outcomes(inLayer('exp-layer-b', 0.25, 0.75), id);
    const membership = a.map((x, i) => {
      const inA = x !== 'DEFAULT';
      const inB = b[i] !== 'DEFAULT';
      if (inA && inB) return 'both';
      return inA ? 'a' : inB ? 'b' : 'neither';
    });
    expect(membership).not.toContain('both');
    expect(goodnessOfFit(counts(membership, ['a', 'b', 'neither']), [25, 50, 25])).toBeLessThan(critical(2));
  });

  it('splits each layer experiment by its weights (the layer hash does not bias the variant)', () => {
    const labels = outcomes(inLayer('exp-layer-c', 0.5, 0.9), id).filter((l) => l !== 'DEFAULT');
    expect(goodnessOfFit(counts(labels, variantIds(2)), [50, 50])).toBeLessThan(critical(1));
  });

  it('draws independent ranges in different layers', () => {
    const inX = outcomes(inLayer('exp-layer-x', 0, 0.5, 'layer-x'), id).map((l) =>
      l === 'DEFAULT' ? 'out' : 'in',
    );
    const inY = outcomes(inLayer('exp-layer-y', 0, 0.5, 'layer-y'), id).map((l) =>
      l === 'DEFAULT' ? 'out' : 'in',
    );
    expect(independence(crossTab(inX, ['in', 'out'], inY, ['in', 'out']))).toBeLessThan(critical(1));
  });
});
