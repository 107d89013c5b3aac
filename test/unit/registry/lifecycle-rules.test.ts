import type { Flag } from '@xp-platform/evaluation';
import {
  experimentBodySchema,
  newExperiment,
  type Experiment,
} from '../../../services/registry/experiments/model';
import {
  allowedTransitions,
  editProblems,
  TRANSITIONS,
  unmetGuards,
  type GuardContext,
} from '../../../services/registry/experiments/lifecycle';

const flag: Flag = {
  key: 'button_color',
  type: 'experiment',
  valueType: 'string',
  description: '',
  owner: 'alice',
  tags: [],
  environments: { production: { enabled: true, defaultValue: 'blue', offValue: 'blue', rules: [] } },
};

function experiment(overrides: Partial<Experiment> = {}): Experiment {
  const base = newExperiment(
    experimentBodySchema.parse({
      key: 'btn',
      name: 'Button',
      owner: 'alice',
      hypothesis: 'Red converts better',
      flagKey: 'button_color',
      primaryMetrics: [{ event: 'Order Completed', aggregation: 'conversion' }],
      variants: [
        { key: 'control', weight: 1, value: 'blue' },
        { key: 'red', weight: 1, value: 'red' },
      ],
    }),
    'alice',
  );
  return { ...base, ...overrides };
}

const ctx = (over: Partial<GuardContext> = {}): GuardContext => ({
  actor: 'bob',
  actorKind: 'person',
  flag,
  running: [],
  now: new Date('2026-01-01T00:00:00Z'),
  ...over,
});

describe('lifecycle guards', () => {
  it('allows only the declared transitions, naming the allowed ones', () => {
    expect(unmetGuards(experiment(), 'running', ctx())).toEqual([
      'cannot go from draft to running (from draft: in_review, archived)',
    ]);
    expect(unmetGuards(experiment({ status: 'archived' }), 'draft', ctx())).toEqual([
      'cannot go from archived to draft (archived is final)',
    ]);
    expect(TRANSITIONS.running).toEqual(['stopped']);
  });

  it('lists every unmet guard for review at once', () => {
    const empty = experiment({ hypothesis: ' ', primaryMetrics: [], variants: [] });
    expect(unmetGuards(empty, 'in_review', ctx())).toEqual([
      'a hypothesis is required',
      'at least one primary metric is required',
      'at least two variants are required',
    ]);
    expect(unmetGuards(experiment(), 'in_review', ctx())).toEqual([]);
  });

  it('refuses approval by the owner', () => {
    const inReview = experiment({ status: 'in_review' });
    expect(unmetGuards(inReview, 'approved', ctx({ actor: 'alice' }))).toEqual([
      'approval must come from someone other than the owner (alice)',
    ]);
    expect(unmetGuards(inReview, 'approved', ctx({ actor: 'bob' }))).toEqual([]);
  });

  it('refuses approval by whoever last changed the design, and by services', () => {
    // The self-approval of issue 12: carol names alice as owner, then approves her own design.
    const byCarol = experiment({ status: 'in_review', designChangedBy: 'carol' });
    expect(unmetGuards(byCarol, 'approved', ctx({ actor: 'carol' }))).toEqual([
      'approval must come from someone other than whoever last changed the design (carol)',
    ]);
    expect(unmetGuards(byCarol, 'approved', ctx({ actor: 'bob' }))).toEqual([]);
    expect(unmetGuards(byCarol, 'approved', ctx({ actor: 'ci-bot', actorKind: 'service' }))).toEqual([
      'approval must come from a person; ci-bot is a service',
    ]);
  });

  it('needs the flag wiring to run', () => {
    const approved = experiment({ status: 'approved' });
    expect(unmetGuards({ ...approved, flagKey: null }, 'running', ctx())).toEqual([
      'the experiment is not wired to a flag: set flagKey',
    ]);
    expect(unmetGuards(approved, 'running', ctx({ flag: null }))).toEqual([
      'flag "button_color" does not exist',
    ]);
    expect(unmetGuards({ ...approved, environment: 'staging' }, 'running', ctx())).toEqual([
      'flag "button_color" has no environment staging',
    ]);
    const numeric = {
      ...approved,
      variants: [
        { key: 'a', weight: 1, value: 1 },
        { key: 'b', weight: 1, value: 'x' },
      ],
    };
    expect(unmetGuards(numeric, 'running', ctx())).toEqual([
      'variants a do not serve a string (the type of flag "button_color")',
    ]);
    expect(unmetGuards(approved, 'running', ctx())).toEqual([]);
  });

  it('keeps experiments of one layer on disjoint ranges', () => {
    const approved = experiment({ status: 'approved', layer: { key: 'L', start: 0.2, end: 0.6 } });
    const running = [
      { key: 'x', layer: { key: 'L', start: 0.5, end: 1 } },
      { key: 'y', layer: { key: 'other', start: 0, end: 1 } },
      { key: 'z', layer: null },
    ];
    expect(unmetGuards(approved, 'running', ctx({ running }))).toEqual([
      'layer L: range [0.2, 0.6) overlaps running experiment "x" [0.5, 1)',
    ]);
    const adjacent = [{ key: 'x', layer: { key: 'L', start: 0.6, end: 1 } }];
    expect(unmetGuards(approved, 'running', ctx({ running: adjacent }))).toEqual([]);
  });

  it('checks A/A variants serve one value', () => {
    const aa = experiment({ type: 'aa' });
    expect(unmetGuards(aa, 'in_review', ctx())).toEqual([
      'an A/A experiment serves the same value in every variant',
    ]);
    const ok = experiment({
      type: 'aa',
      variants: [
        { key: 'a1', weight: 1, value: 'blue' },
        { key: 'a2', weight: 1, value: 'blue' },
      ],
    });
    expect(unmetGuards(ok, 'in_review', ctx())).toEqual([]);
  });

  it('needs a decision and a summary to conclude', () => {
    const stopped = experiment({ status: 'stopped' });
    expect(unmetGuards(stopped, 'concluded', ctx({ decision: 'maybe' }))).toEqual([
      'concluding needs a decision: ship, rollback or iterate',
      'concluding needs a summary of the results',
    ]);
    expect(unmetGuards(stopped, 'concluded', ctx({ decision: 'rollback', summary: 'no effect' }))).toEqual(
      [],
    );
  });

  it('freezes definition fields by status; variants change only through a new phase while running', () => {
    expect(editProblems(experiment(), ['variants', 'hypothesis'])).toEqual([]);
    expect(editProblems(experiment({ status: 'in_review' }), ['hypothesis'])).toEqual([
      'hypothesis cannot change while in_review: move the experiment back to draft first',
    ]);
    expect(editProblems(experiment({ status: 'approved' }), ['name', 'description'])).toEqual([]);
    expect(
      editProblems(experiment({ status: 'running' }), ['variants', 'trafficCoverage', 'owner', 'endAt']),
    ).toEqual([
      'variants, trafficCoverage are frozen while running: start a new phase (POST /v1/experiments/btn/phases)',
      'owner cannot change while running',
    ]);
    expect(editProblems(experiment({ status: 'archived' }), ['name'])).toEqual([
      'an archived experiment cannot change',
    ]);
  });

  it('lists the next statuses with what blocks each for the caller (allowedTransitions)', () => {
    const { decision: _d, summary: _s, ...base } = ctx();
    const inReview = experiment({ status: 'in_review' });
    expect(allowedTransitions(inReview, { ...base, actor: 'alice' })).toEqual([
      {
        to: 'approved',
        allowed: false,
        unmet: ['approval must come from someone other than the owner (alice)'],
        inputs: [],
      },
      { to: 'draft', allowed: true, unmet: [], inputs: [] },
    ]);
    expect(allowedTransitions(inReview, base).map((t) => t.allowed)).toEqual([true, true]);
    expect(allowedTransitions(experiment({ status: 'stopped' }), base)).toEqual([
      { to: 'concluded', allowed: true, unmet: [], inputs: ['decision', 'summary'] },
    ]);
    const asViewer = allowedTransitions(inReview, base, 'your role (viewer) may not move experiments');
    expect(
      asViewer.every((t) => !t.allowed && t.unmet[0] === 'your role (viewer) may not move experiments'),
    ).toBe(true);
    expect(allowedTransitions(experiment({ status: 'archived' }), base)).toEqual([]);
  });
});
