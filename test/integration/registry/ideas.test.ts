// The ideas backlog: ICE scores with the configured weights, sorting, roles, optimistic
// concurrency, the audit log, promotion to a draft experiment in one step, and the OpenAPI entry.
import {
  ADMIN_TOKEN,
  client,
  createTestDatabase,
  deleteTopics,
  startTestRegistry,
  testEnv,
  type TestDatabase,
} from './harness';
import type { RunningRegistry } from '../../../services/registry/server';

describe('registry ideas backlog', () => {
  let db: TestDatabase;
  let registry: RunningRegistry & {
    config: { REGISTRY_CHANGES_TOPIC: string; REGISTRY_EXPOSURES_TOPIC: string };
  };
  let admin: ReturnType<typeof client>;
  let alice: ReturnType<typeof client>;
  let viewer: ReturnType<typeof client>;
  const previousWeights = process.env.REGISTRY_IDEA_WEIGHTS;

  beforeAll(async () => {
    // Impact counts twice: the scores below are (2·I + C + E) / 4.
    process.env.REGISTRY_IDEA_WEIGHTS = 'impact:2,confidence:1,ease:1';
    db = await createTestDatabase();
    registry = await startTestRegistry(testEnv(db));
    admin = client(registry.url, ADMIN_TOKEN);
    const make = async (name: string, role: string) =>
      (await admin('POST', '/v1/tokens', { name, role, kind: 'person' })).body.token as string;
    alice = client(registry.url, await make('alice', 'editor'));
    viewer = client(registry.url, await make('victor', 'viewer'));
  });
  afterAll(async () => {
    if (previousWeights === undefined) delete process.env.REGISTRY_IDEA_WEIGHTS;
    else process.env.REGISTRY_IDEA_WEIGHTS = previousWeights;
    if (registry) {
      await registry.close();
      await deleteTopics([registry.config.REGISTRY_CHANGES_TOPIC, registry.config.REGISTRY_EXPOSURES_TOPIC]);
    }
    await db?.drop();
  });

  const idea = (key: string, impact: number, confidence: number, ease: number, extra: object = {}) => ({
    key,
    title: `Idea ${key}`,
    hypothesis: `If we do ${key}, conversion rises`,
    expectedImpact: impact,
    confidence,
    ease,
    ...extra,
  });

  it('creates ideas with the caller as owner, scores them with the weights and sorts them', async () => {
    const a = await alice('POST', '/v1/ideas', idea('big-bet', 9, 3, 2));
    expect(a.status).toBe(201);
    expect(a.headers.get('etag')).toBe('"1"');
    expect(a.body).toMatchObject({
      owner: 'alice',
      createdBy: 'alice',
      status: 'open',
      version: 1,
      score: 5.75,
    });
    await alice('POST', '/v1/ideas', idea('quick-win', 5, 8, 9));
    await alice('POST', '/v1/ideas', idea('meh', 2, 2, 2));

    const listed = await viewer('GET', '/v1/ideas');
    expect(listed.status).toBe(200);
    expect(listed.body.ideas.map((i: { key: string; score: number }) => [i.key, i.score])).toEqual([
      ['quick-win', 6.75],
      ['big-bet', 5.75],
      ['meh', 2],
    ]);
    expect(listed.body.scoring).toMatchObject({
      method: 'ICE',
      weights: { impact: 2, confidence: 1, ease: 1 },
    });
    const byEase = await viewer('GET', '/v1/ideas?sort=ease&order=asc');
    expect(byEase.body.ideas.map((i: { key: string }) => i.key)).toEqual(['big-bet', 'meh', 'quick-win']); // ties by key
    const byKey = await viewer('GET', '/v1/ideas?sort=key');
    expect(byKey.body.ideas.map((i: { key: string }) => i.key)).toEqual(['big-bet', 'meh', 'quick-win']);
    expect((await viewer('GET', '/v1/ideas?sort=bogus')).status).toBe(400);
  });

  it('validates input with field paths and refuses unknown owners and non-http links', async () => {
    const bad = await alice('POST', '/v1/ideas', idea('bad', 11, 0, 5));
    expect(bad.status).toBe(400);
    expect(bad.body.details.map((d: { path: string }) => d.path).sort()).toEqual([
      'confidence',
      'expectedImpact',
    ]);
    const link = await alice(
      'POST',
      '/v1/ideas',
      idea('xss', 5, 5, 5, { links: [{ url: 'javascript:alert(1)' }] }),
    );
    expect(link.status).toBe(400);
    expect(link.body.details[0].path).toBe('links.0.url');
    const owner = await alice('POST', '/v1/ideas', idea('ghost', 5, 5, 5, { owner: 'nobody' }));
    expect(owner.status).toBe(400);
    expect(owner.body.message).toMatch(/unknown identity "nobody"/);
    expect((await alice('POST', '/v1/ideas', idea('meh', 1, 1, 1))).status).toBe(409);
  });

  it('enforces roles: viewers read, editors write', async () => {
    const denied = await viewer('POST', '/v1/ideas', idea('nope', 5, 5, 5));
    expect(denied.status).toBe(403);
    expect(denied.body.message).toMatch(/role viewer/);
    expect((await client(registry.url)('GET', '/v1/ideas')).status).toBe(401);
    expect((await viewer('POST', '/v1/ideas/meh/promote', {})).status).toBe(403);
  });

  it('edits with optimistic concurrency and logs every change', async () => {
    const missing = await alice('PATCH', '/v1/ideas/meh', { ease: 7 });
    expect(missing.status).toBe(428);
    const ok = await alice('PATCH', '/v1/ideas/meh', { ease: 7 }, { 'if-match': '"1"' });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ version: 2, ease: 7, score: 3.25 });
    const stale = await alice('PATCH', '/v1/ideas/meh', { confidence: 9, version: 1 });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ error: 'version_conflict', details: { currentVersion: 2 } });
    const discarded = await alice('PATCH', '/v1/ideas/meh', { status: 'discarded', version: 2 });
    expect(discarded.body.status).toBe('discarded');
    expect((await viewer('GET', '/v1/ideas?status=open')).body.ideas).toHaveLength(2);

    const log = await viewer('GET', '/v1/ideas/meh/log');
    expect(log.body.entries.map((e: { action: string }) => e.action)).toEqual([
      'discarded',
      'updated',
      'created',
    ]);
    expect(log.body.entries[1]).toMatchObject({
      actor: 'alice',
      version: 2,
      diff: [{ path: 'ease', op: 'change', before: 2, after: 7 }],
    });
    const audit = await viewer('GET', '/v1/audit?entityType=idea&key=meh');
    expect(audit.body.entries).toHaveLength(3);
    const refused = await alice('POST', '/v1/ideas/meh/promote', {});
    expect(refused.status).toBe(409);
    expect(refused.body.error).toBe('idea_discarded');
  });

  it('promotes an idea to a draft experiment in one step, once', async () => {
    await alice(
      'POST',
      '/v1/ideas',
      idea('new-onboarding', 8, 6, 5, {
        links: [{ url: 'https://example.com/research', label: 'research' }],
        tags: ['growth'],
      }),
    );
    const promoted = await admin('POST', '/v1/ideas/new-onboarding/promote', {
      experimentKey: 'onboarding-v2',
    });
    expect(promoted.status).toBe(201);
    expect(promoted.headers.get('location')).toBe('/v1/experiments/onboarding-v2');
    expect(promoted.body.idea).toMatchObject({
      status: 'promoted',
      experimentKey: 'onboarding-v2',
      promotedBy: 'bootstrap-admin',
      version: 2,
    });
    expect(promoted.body.experiment).toMatchObject({
      key: 'onboarding-v2',
      name: 'Idea new-onboarding',
      status: 'draft',
      owner: 'alice',
      hypothesis: 'If we do new-onboarding, conversion rises',
      tags: ['growth'],
      version: 1,
    });
    expect(promoted.body.experiment.description).toContain('research: https://example.com/research');

    const exp = await viewer('GET', '/v1/experiments/onboarding-v2');
    expect(exp.status).toBe(200);
    const expLog = await viewer('GET', '/v1/experiments/onboarding-v2/log');
    expect(expLog.body.entries[0]).toMatchObject({ action: 'created', actor: 'bootstrap-admin' });

    const again = await admin('POST', '/v1/ideas/new-onboarding/promote', {});
    expect(again.status).toBe(409);
    expect(again.body.error).toBe('already_promoted');
    const edit = await alice('PATCH', '/v1/ideas/new-onboarding', { ease: 1, version: 2 });
    expect(edit.status).toBe(409);

    // An existing experiment key: nothing changes (one transaction).
    const clash = await alice('POST', '/v1/ideas/quick-win/promote', { experimentKey: 'onboarding-v2' });
    expect(clash.status).toBe(409);
    expect((await viewer('GET', '/v1/ideas/quick-win')).body).toMatchObject({ status: 'open', version: 1 });
  });

  it('deletes with If-Match and documents the routes in OpenAPI', async () => {
    expect((await alice('DELETE', '/v1/ideas/big-bet')).status).toBe(428);
    expect((await alice('DELETE', '/v1/ideas/big-bet', undefined, { 'if-match': '"1"' })).status).toBe(204);
    expect((await viewer('GET', '/v1/ideas/big-bet')).status).toBe(404);
    const doc = await client(registry.url)('GET', '/openapi.json');
    for (const path of ['/v1/ideas', '/v1/ideas/{key}', '/v1/ideas/{key}/promote', '/v1/ideas/{key}/log']) {
      expect(doc.body.paths[path]).toBeDefined();
    }
    expect(
      doc.body.paths['/v1/ideas'].post.requestBody.content['application/json'].schema.properties,
    ).toHaveProperty('expectedImpact');
  });
});
