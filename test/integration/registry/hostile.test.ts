// The registry defects of issue 12, reproduced as reported against a running registry:
// self-approval through a free-text owner (#3), a catastrophic regex rule (#4), 500 where
// 400 fits (#7) and numbers or keys JSON.parse changes silently (#8).
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

type Call = ReturnType<typeof client>;

describe('registry: hostile-testing defects', () => {
  let db: TestDatabase;
  let registry: RunningRegistry & {
    config: { REGISTRY_CHANGES_TOPIC: string; REGISTRY_EXPOSURES_TOPIC: string };
  };
  let admin: Call;
  const tokens: Record<string, string> = {};
  const as = (who: string) => client(registry.url, tokens[who]);

  beforeAll(async () => {
    db = await createTestDatabase();
    registry = await startTestRegistry(testEnv(db));
    admin = client(registry.url, ADMIN_TOKEN);
    const make = async (name: string, body: Record<string, unknown>) => {
      const res = await admin('POST', '/v1/tokens', { name, ...body });
      expect(res.status).toBe(201);
      tokens[name] = res.body.token;
    };
    await make('alice', { role: 'editor' });
    await make('mallory', { role: 'editor' });
    // A second token of mallory's: the same identity, so the same person to the guards.
    await make('mallory-laptop', { role: 'editor', identity: 'mallory' });
    await make('bob', { role: 'editor' });
    await make('deploy-bot', { role: 'editor', kind: 'service' });
    await make('backend', { role: 'sdk' });
    await as('alice')('POST', '/v1/flags', { key: 'button_color', type: 'experiment', valueType: 'string' });
  });
  afterAll(async () => {
    if (registry) {
      await registry.close();
      await deleteTopics([registry.config.REGISTRY_CHANGES_TOPIC, registry.config.REGISTRY_EXPOSURES_TOPIC]);
    }
    await db?.drop();
  });

  const reviewable = (key: string, owner: string) => ({
    key,
    name: key,
    owner,
    hypothesis: 'Red converts better',
    flagKey: 'button_color',
    primaryMetrics: [{ event: 'Order Completed', aggregation: 'conversion' }],
    variants: [
      { key: 'control', weight: 1, value: 'blue' },
      { key: 'red', weight: 1, value: 'red' },
    ],
  });
  const transition = (who: string, key: string, to: string) =>
    as(who)('POST', `/v1/experiments/${key}/transitions`, { to });

  it('#3 binds approvals to identities: no self-approval through another owner or token', async () => {
    // Owners are identities: a free-text owner nobody holds a token for is refused.
    const ghost = await as('mallory')('POST', '/v1/experiments', reviewable('ghost', 'nobody'));
    expect(ghost.status).toBe(400);
    expect(ghost.body.details).toEqual([expect.objectContaining({ path: 'owner' })]);

    // The reported attack: mallory names alice as owner, then approves her own design.
    expect((await as('mallory')('POST', '/v1/experiments', reviewable('sneaky', 'alice'))).status).toBe(201);
    expect((await transition('mallory', 'sneaky', 'in_review')).status).toBe(200);
    const self = await transition('mallory', 'sneaky', 'approved');
    expect(self.status).toBe(409);
    expect(self.body.details.unmet).toEqual([
      'approval must come from someone other than whoever last changed the design (mallory)',
    ]);
    // Another token of the same identity is still mallory.
    const laptop = await transition('mallory-laptop', 'sneaky', 'approved');
    expect(laptop.status).toBe(409);
    // A service approves nothing.
    const bot = await transition('deploy-bot', 'sneaky', 'approved');
    expect(bot.body.details.unmet).toEqual(['approval must come from a person; deploy-bot is a service']);
    // The owner cannot approve either; a third person can.
    expect((await transition('alice', 'sneaky', 'approved')).status).toBe(409);
    const approved = await transition('bob', 'sneaky', 'approved');
    expect(approved.status).toBe(200);
    expect(approved.body.approval.by).toBe('bob');
    expect(approved.body.designChangedBy).toBe('mallory');

    // Whoever edits the design in draft becomes its last changer; cosmetic edits do not count.
    await transition('alice', 'sneaky', 'draft');
    const edit = async (who: string, patch: Record<string, unknown>) => {
      const current = await as(who)('GET', '/v1/experiments/sneaky');
      return as(who)('PATCH', '/v1/experiments/sneaky', patch, { 'if-match': current.headers.get('etag')! });
    };
    expect((await edit('bob', { hypothesis: 'Red converts much better' })).body.designChangedBy).toBe('bob');
    expect((await edit('mallory', { description: 'typo fixed' })).body.designChangedBy).toBe('bob');
    await transition('alice', 'sneaky', 'in_review');
    expect((await transition('bob', 'sneaky', 'approved')).status).toBe(409);
    expect((await transition('mallory', 'sneaky', 'approved')).status).toBe(200);

    // The log names identities, not token names.
    const log = await admin('GET', '/v1/experiments/sneaky/log');
    expect(new Set(log.body.entries.map((e: { actor: string }) => e.actor))).toEqual(
      new Set(['mallory', 'alice', 'bob']),
    );
    const listed = await admin('GET', '/v1/tokens');
    expect(listed.body.tokens).toContainEqual(
      expect.objectContaining({ name: 'mallory-laptop', identity: 'mallory', kind: 'person' }),
    );
    expect(listed.body.tokens).toContainEqual(
      expect.objectContaining({ name: 'backend', identity: 'backend', kind: 'service' }),
    );
    // One identity is one kind.
    const clash = await admin('POST', '/v1/tokens', {
      name: 'alice-ci',
      role: 'editor',
      identity: 'alice',
      kind: 'service',
    });
    expect(clash.status).toBe(409);
  });

  it('#4 evaluates a catastrophic regex rule in linear time', async () => {
    const rules = [
      { id: 'redos', conditions: [{ attribute: 'email', operator: 'regex', value: '^(a+)+$' }], value: true },
    ];
    const created = await as('alice')('POST', '/v1/flags', {
      key: 'redos',
      valueType: 'boolean',
      environments: { production: { enabled: true, defaultValue: false, offValue: false, rules } },
    });
    expect(created.status).toBe(201);
    const sdk = client(registry.url, tokens.backend);
    const started = Date.now();
    const res = await sdk('POST', '/v1/evaluate', {
      environment: 'production',
      context: { userId: 'u', email: `${'a'.repeat(1000)}!` },
      flags: ['redos'],
    });
    expect(res.status).toBe(200);
    expect(res.body.results.redos).toMatchObject({ value: false });
    expect(Date.now() - started).toBeLessThan(2_000); // was 3.9 s at 28 characters, doubling per character
    // Patterns RE2 cannot run in linear time are refused with the path.
    const backref = await as('alice')('POST', '/v1/flags', {
      key: 'backref',
      valueType: 'boolean',
      environments: {
        production: {
          enabled: true,
          defaultValue: false,
          offValue: false,
          rules: [
            { id: 'r', conditions: [{ attribute: 'a', operator: 'regex', value: '(a)\\1' }], value: true },
          ],
        },
      },
    });
    expect(backref.status).toBe(400);
    expect(backref.body.details[0].path).toBe('environments.production.rules.0.conditions.0.value');
  });

  it('#7 answers 400 with the path where PostgreSQL or the YAML parser would fail', async () => {
    const raw = async (method: string, path: string, body?: string) => {
      const res = await fetch(registry.url + path, {
        method,
        headers: { authorization: `Bearer ${tokens.alice}`, 'content-type': 'application/json' },
        body,
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const nul = await raw(
      'POST',
      '/v1/flags',
      '{"key":"nul","valueType":"string","description":"a\\u0000b"}',
    );
    expect(nul.status).toBe(400);
    expect(nul.body.details).toEqual([{ path: 'description', message: expect.stringMatching(/U\+0000/) }]);
    const surrogate = await raw(
      'POST',
      '/v1/flags',
      '{"key":"sur","valueType":"string","description":"\\ud800"}',
    );
    expect(surrogate.status).toBe(400);
    expect(surrogate.body.details).toEqual([
      { path: 'description', message: expect.stringMatching(/surrogate/) },
    ]);
    const key = await raw('POST', '/v1/flags', '{"key":"k","valueType":"json","tags":["\\udfff"]}');
    expect([key.status, (key.body.details as { path: string }[])[0]!.path]).toEqual([400, 'tags.0']);

    const actor = await raw('GET', '/v1/audit?actor=a%00b');
    expect(actor.status).toBe(400);
    expect(actor.body.details).toEqual([{ path: 'actor', message: expect.stringMatching(/U\+0000/) }]);

    let bomb = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n';
    for (const [i, prev] of ['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'].entries()) {
      const p = i === 0 ? 'a' : ['b', 'c', 'd', 'e', 'f', 'g', 'h'][i - 1]!;
      bomb += `${prev}: &${prev} [${Array(9).fill(`*${p}`).join(',')}]\n`;
    }
    const started = Date.now();
    const yaml = await as('alice')('POST', '/v1/config/import', { yaml: bomb, dryRun: true });
    expect(yaml.status).toBe(400);
    expect(yaml.body.message).toMatch(/alias/i);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('#8 refuses 1e400 and duplicate keys instead of storing null or the last value', async () => {
    const res = await fetch(`${registry.url}/v1/flags`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.alice}`, 'content-type': 'application/json' },
      body: '{"key":"big","valueType":"json","environments":{"production":{"enabled":true,"defaultValue":1e400,"offValue":0,"rules":[]}}}',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { details: unknown[] }).details).toEqual([
      { path: 'environments.production.defaultValue', message: expect.stringMatching(/float64/) },
    ]);
    const dup = await fetch(`${registry.url}/v1/flags`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.alice}`, 'content-type': 'application/json' },
      body: '{"key":"dup","valueType":"boolean","owner":"alice","owner":"mallory"}',
    });
    expect(dup.status).toBe(400);
    expect(((await dup.json()) as { message: string }).message).toMatch(/duplicate key "owner"/);
    expect((await admin('GET', '/v1/flags/dup')).status).toBe(404);
  });
});
