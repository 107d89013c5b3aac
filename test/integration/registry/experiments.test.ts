// The experiment lifecycle over HTTP: guards (409 naming every unmet one), approval by
// someone other than the owner, wiring to the flag, frozen variants and phases, the
// decision, the log and the brief.
import type { RunningRegistry } from '../../../services/registry/server';
import {
  ADMIN_TOKEN,
  client,
  createTestDatabase,
  deleteTopics,
  startTestRegistry,
  testEnv,
  type TestDatabase,
} from './harness';

describe('experiment lifecycle', () => {
  let db: TestDatabase;
  let registry: RunningRegistry & {
    config: { REGISTRY_CHANGES_TOPIC: string; REGISTRY_EXPOSURES_TOPIC: string };
  };
  let alice: ReturnType<typeof client>; // the owner
  let bob: ReturnType<typeof client>; // a reviewer

  beforeAll(async () => {
    db = await createTestDatabase();
    registry = await startTestRegistry(testEnv(db));
    const admin = client(registry.url, ADMIN_TOKEN);
    alice = client(
      registry.url,
      (await admin('POST', '/v1/tokens', { name: 'alice', role: 'editor' })).body.token,
    );
    bob = client(
      registry.url,
      (await admin('POST', '/v1/tokens', { name: 'bob', role: 'editor' })).body.token,
    );
    await alice('POST', '/v1/flags', { key: 'button_color', type: 'experiment', valueType: 'string' });
  });
  afterAll(async () => {
    if (registry) {
      await registry.close();
      await deleteTopics([registry.config.REGISTRY_CHANGES_TOPIC, registry.config.REGISTRY_EXPOSURES_TOPIC]);
    }
    await db?.drop();
  });

  const transition = (as: ReturnType<typeof client>, key: string, body: Record<string, unknown>) =>
    as('POST', `/v1/experiments/${key}/transitions`, body);

  it('runs the whole lifecycle with its guards', async () => {
    const created = await alice('POST', '/v1/experiments', {
      key: 'btn',
      name: 'Button colour',
      owner: 'alice',
    });
    expect(created.status).toBe(201);
    expect(created.body.status).toBe('draft');

    // Every unmet guard is named at once.
    const early = await transition(alice, 'btn', { to: 'in_review' });
    expect(early.status).toBe(409);
    expect(early.body.details.unmet).toEqual([
      'a hypothesis is required',
      'at least one primary metric is required',
      'at least two variants are required',
    ]);
    // Not allowed from draft at all.
    const skip = await transition(alice, 'btn', { to: 'running' });
    expect(skip.status).toBe(409);
    expect(skip.body.details.unmet[0]).toMatch(/cannot go from draft to running/);

    const edited = await alice(
      'PATCH',
      '/v1/experiments/btn',
      {
        hypothesis: 'A red button increases checkouts',
        primaryMetrics: [{ event: 'Order Completed', aggregation: 'conversion' }],
        guardrailMetrics: [
          { event: 'Order Completed', aggregation: 'sum', name: 'revenue' },
          { event: 'Checkout Error', aggregation: 'count', inverse: true },
        ],
        variants: [
          { key: 'control', weight: 50, value: 'blue' },
          { key: 'red', weight: 50, value: 'red' },
        ],
        trafficCoverage: 0.8,
      },
      { 'if-match': '"1"' },
    );
    expect(edited.status).toBe(200);
    expect((await transition(alice, 'btn', { to: 'in_review' })).status).toBe(200);

    // Frozen while in review.
    const frozen = await alice('PATCH', '/v1/experiments/btn', { hypothesis: 'changed', version: 3 });
    expect(frozen.status).toBe(409);
    expect(frozen.body.message).toMatch(/back to draft/);

    // The owner cannot approve their own experiment.
    const self = await transition(alice, 'btn', { to: 'approved' });
    expect(self.status).toBe(409);
    expect(self.body.details.unmet).toEqual(['approval must come from someone other than the owner (alice)']);
    const approved = await transition(bob, 'btn', { to: 'approved', comment: 'lgtm' });
    expect(approved.status).toBe(200);
    expect(approved.body.approval).toMatchObject({ by: 'bob', comment: 'lgtm' });

    // Running needs the flag wiring: back to draft to set it, then review again.
    const unwired = await transition(alice, 'btn', { to: 'running' });
    expect(unwired.status).toBe(409);
    expect(unwired.body.details.unmet).toEqual(['the experiment is not wired to a flag: set flagKey']);
    expect((await transition(alice, 'btn', { to: 'draft' })).body.approval).toBeNull();
    const current = await alice('GET', '/v1/experiments/btn');
    const wired = await alice(
      'PATCH',
      '/v1/experiments/btn',
      { flagKey: 'button_color' },
      { 'if-match': current.headers.get('etag')! },
    );
    expect(wired.body).toMatchObject({ flagKey: 'button_color' });
    expect((await transition(alice, 'btn', { to: 'in_review' })).body).toMatchObject({ status: 'in_review' });
    expect((await transition(bob, 'btn', { to: 'approved' })).body).toMatchObject({ status: 'approved' });
    const running = await transition(alice, 'btn', { to: 'running' });
    expect(running.body).toMatchObject({ status: 'running' });
    expect(running.body.phases).toHaveLength(1);
    expect(running.body.phases[0]).toMatchObject({ number: 0, trafficCoverage: 0.8, endedAt: null });

    // The flag now carries the managed split rule.
    const flag = await alice('GET', '/v1/flags/button_color');
    const rule = flag.body.environments.production.rules[0];
    expect(rule).toMatchObject({
      id: 'exp:btn',
      split: { experimentKey: 'btn', seed: 'btn', phase: 0, coverage: 0.8, hashAttribute: 'userId' },
    });
    expect(rule.split.variants).toEqual([
      { id: 'control', value: 'blue', weight: 50 },
      { id: 'red', value: 'red', weight: 50 },
    ]);
    // ...which cannot be edited through the flag while the experiment runs.
    const hijack = await alice(
      'PATCH',
      '/v1/flags/button_color/environments/production',
      { rules: [] },
      { 'if-match': flag.headers.get('etag')! },
    );
    expect(hijack.status).toBe(409);
    expect(hijack.body.error).toBe('managed_by_experiment');

    // Variants and weights are frozen while running...
    const v = (await alice('GET', '/v1/experiments/btn')).body.version;
    const weights = await alice('PATCH', '/v1/experiments/btn', {
      variants: [
        { key: 'control', weight: 20, value: 'blue' },
        { key: 'red', weight: 80, value: 'red' },
      ],
      version: v,
    });
    expect(weights.status).toBe(409);
    expect(weights.body.message).toMatch(/frozen while running: start a new phase/);
    // ...except through a new phase, which re-randomises and is recorded.
    const phase = await alice('POST', '/v1/experiments/btn/phases', {
      reason: 'ramp up the treatment',
      variants: [
        { key: 'control', weight: 20, value: 'blue' },
        { key: 'red', weight: 80, value: 'red' },
      ],
      trafficCoverage: 1,
    });
    expect(phase.status).toBe(201);
    expect(phase.body.phases.map((p: { number: number }) => p.number)).toEqual([0, 1]);
    expect(phase.body.phases[0].endedAt).not.toBeNull();
    const rephased = await alice('GET', '/v1/flags/button_color');
    expect(rephased.body.environments.production.rules[0].split).toMatchObject({ phase: 1, coverage: 1 });

    expect((await transition(alice, 'btn', { to: 'stopped' })).status).toBe(200);
    const stoppedFlag = await alice('GET', '/v1/flags/button_color');
    expect(stoppedFlag.body.environments.production.rules).toEqual([]);

    const vague = await transition(alice, 'btn', { to: 'concluded' });
    expect(vague.body.details.unmet).toEqual([
      'concluding needs a decision: ship, rollback or iterate',
      'concluding needs a summary of the results',
    ]);
    const concluded = await transition(alice, 'btn', {
      to: 'concluded',
      decision: 'ship',
      summary: 'Red wins: +3.1% checkouts',
    });
    expect(concluded.body).toMatchObject({ status: 'concluded', decision: 'ship' });
    expect((await transition(alice, 'btn', { to: 'archived' })).status).toBe(200);

    const log = await alice('GET', '/v1/experiments/btn/log');
    const actions = log.body.entries.map((e: { action: string }) => e.action).reverse();
    expect(actions).toEqual([
      'created',
      'updated',
      'transitioned:in_review',
      'transitioned:approved',
      'transitioned:draft',
      'updated',
      'transitioned:in_review',
      'transitioned:approved',
      'transitioned:running',
      'new_phase:1',
      'transitioned:stopped',
      'transitioned:concluded',
      // Concluding freezes the final results into the log (none recorded here: results null).
      'results:final',
      'transitioned:archived',
    ]);
    const flagLog = await alice('GET', '/v1/audit?entityType=flag&key=button_color');
    expect(flagLog.body.entries.map((e: { action: string }) => e.action)).toEqual(
      expect.arrayContaining(['experiment:btn:started', 'experiment:btn:phase:1', 'experiment:btn:stopped']),
    );

    const brief = await alice('GET', '/v1/experiments/btn/brief');
    expect(brief.headers.get('content-type')).toMatch(/text\/markdown/);
    for (const part of [
      '# Button colour (`btn`)',
      '## Hypothesis',
      'A red button increases checkouts',
      '| primary | Order Completed (`Order Completed`) | conversion |',
      '| guardrail | revenue (`Order Completed`) | sum |',
      '| guardrail | Checkout Error (`Checkout Error`), lower is better | count |',
      '## Audience',
      '| red (`red`) | 80 | 80% | `"red"` |',
      'Phase 1:',
      '**ship**',
      'transitioned:running',
    ]) {
      expect(brief.body).toContain(part);
    }
  });

  it('gives experiments in one layer disjoint traffic and checks A/A variants', async () => {
    const base = {
      owner: 'alice',
      hypothesis: 'h',
      flagKey: 'button_color',
      primaryMetrics: [{ event: 'Signed Up', aggregation: 'count' }],
      variants: [
        { key: 'a', weight: 1, value: 'blue' },
        { key: 'b', weight: 1, value: 'green' },
      ],
    };
    const start = async (key: string, extra: Record<string, unknown>) => {
      await alice('POST', '/v1/experiments', { ...base, key, name: key, ...extra });
      await transition(alice, key, { to: 'in_review' });
      await transition(bob, key, { to: 'approved' });
      return transition(alice, key, { to: 'running' });
    };
    expect((await start('l1', { layer: { key: 'checkout', start: 0, end: 0.5 } })).status).toBe(200);
    const overlapping = await start('l2', { layer: { key: 'checkout', start: 0.4, end: 1 } });
    expect(overlapping.status).toBe(409);
    expect(overlapping.body.details.unmet[0]).toMatch(/overlaps running experiment "l1"/);
    await alice('POST', '/v1/experiments', {
      ...base,
      key: 'l3',
      name: 'l3',
      layer: { key: 'checkout', start: 0.5, end: 1 },
    });
    await transition(alice, 'l3', { to: 'in_review' });
    await transition(bob, 'l3', { to: 'approved' });
    // l3's rule goes into the same flag after l1's.
    expect((await transition(alice, 'l3', { to: 'running' })).status).toBe(200);

    const aa = await alice('POST', '/v1/experiments', { ...base, key: 'aa', name: 'A/A', type: 'aa' });
    expect(aa.status).toBe(201);
    const refused = await transition(alice, 'aa', { to: 'in_review' });
    expect(refused.body.details.unmet).toEqual(['an A/A experiment serves the same value in every variant']);
  });

  it('tells each caller which transitions are open and why the others are blocked (allowedTransitions)', async () => {
    const admin = client(registry.url, ADMIN_TOKEN);
    const viewer = client(
      registry.url,
      (await admin('POST', '/v1/tokens', { name: 'vera', role: 'viewer' })).body.token,
    );
    await alice('POST', '/v1/experiments', { key: 'allowed', name: 'Allowed', owner: 'alice' });
    const open = (body: { allowedTransitions: { to: string; allowed: boolean; unmet: string[] }[] }) =>
      Object.fromEntries(body.allowedTransitions.map((t) => [t.to, t.allowed ? 'ok' : t.unmet]));

    // A bare draft: review is blocked by the same reasons the transition endpoint gives.
    const draft = await alice('GET', '/v1/experiments/allowed');
    expect(open(draft.body)).toEqual({
      in_review: [
        'a hypothesis is required',
        'at least one primary metric is required',
        'at least two variants are required',
      ],
      archived: 'ok',
    });
    const refused = await transition(alice, 'allowed', { to: 'in_review' });
    expect(refused.body.details.unmet).toEqual(open(draft.body).in_review);

    await alice('PATCH', '/v1/experiments/allowed', {
      hypothesis: 'Allowed transitions help reviewers',
      flagKey: 'button_color',
      primaryMetrics: [{ event: 'Order Completed', aggregation: 'conversion' }],
      variants: [
        { key: 'a', weight: 1, value: 'blue' },
        { key: 'b', weight: 1, value: 'green' },
      ],
      version: draft.body.version,
    });
    expect((await transition(alice, 'allowed', { to: 'in_review' })).status).toBe(200);

    // In review: the owner (and last designer) may not approve; another person may.
    const forAlice = await alice('GET', '/v1/experiments/allowed');
    expect(open(forAlice.body)).toEqual({
      approved: ['approval must come from someone other than the owner (alice)'],
      draft: 'ok',
    });
    const forBob = await bob('GET', '/v1/experiments/allowed');
    expect(open(forBob.body)).toEqual({ approved: 'ok', draft: 'ok' });
    // A viewer may read but not move it: the reason says so.
    const forViewer = await viewer('GET', '/v1/experiments/allowed');
    expect(forViewer.body.allowedTransitions[0].unmet[0]).toMatch(/your role \(viewer\) may not move/);

    expect((await transition(bob, 'allowed', { to: 'approved' })).status).toBe(200);
    // Running is blocked while another running experiment takes the same layer range, etc.;
    // here nothing blocks it.
    expect(open((await alice('GET', '/v1/experiments/allowed')).body)).toEqual({
      running: 'ok',
      draft: 'ok',
    });
    expect((await transition(alice, 'allowed', { to: 'running' })).status).toBe(200);
    expect((await transition(alice, 'allowed', { to: 'stopped' })).status).toBe(200);
    // Concluding: no state guard, but the request must carry a decision and a summary.
    const stopped = await alice('GET', '/v1/experiments/allowed');
    expect(stopped.body.allowedTransitions).toEqual([
      { to: 'concluded', allowed: true, unmet: [], inputs: ['decision', 'summary'] },
    ]);
  });
});
