// Flags, segments, audit entries, tokens and roles, validation and optimistic concurrency,
// against a real PostgreSQL (and Kafka, which the registry needs to start).
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

const checkoutFlag = {
  key: 'new_checkout',
  type: 'release',
  valueType: 'boolean',
  description: 'The new checkout flow',
  owner: 'alice',
  tags: ['checkout'],
};

describe('registry CRUD, audit and security', () => {
  let db: TestDatabase;
  let registry: RunningRegistry & {
    config: { REGISTRY_CHANGES_TOPIC: string; REGISTRY_EXPOSURES_TOPIC: string };
  };
  let admin: ReturnType<typeof client>;
  let editorToken: string;
  let viewerToken: string;
  let sdkToken: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    registry = await startTestRegistry(testEnv(db));
    admin = client(registry.url, ADMIN_TOKEN);
    const make = async (name: string, role: string) =>
      (await admin('POST', '/v1/tokens', { name, role })).body.token as string;
    editorToken = await make('bob', 'editor');
    viewerToken = await make('victor', 'viewer');
    sdkToken = await make('backend', 'sdk');
  });
  afterAll(async () => {
    if (registry) {
      await registry.close();
      await deleteTopics([registry.config.REGISTRY_CHANGES_TOPIC, registry.config.REGISTRY_EXPOSURES_TOPIC]);
    }
    await db?.drop();
  });

  it('answers 401 without or with a bad token, 403 for a role too low', async () => {
    const anonymous = await client(registry.url)('GET', '/v1/flags');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.message).toMatch(/Authorization: Bearer/);
    const bad = await client(registry.url, 'nope')('GET', '/v1/flags');
    expect(bad.status).toBe(401);
    expect(bad.body.message).toMatch(/unknown or revoked/);

    const viewerWrite = await client(registry.url, viewerToken)('POST', '/v1/flags', checkoutFlag);
    expect(viewerWrite.status).toBe(403);
    expect(viewerWrite.body.message).toMatch(/role viewer.*editor, admin/);
    const sdkRead = await client(registry.url, sdkToken)('GET', '/v1/flags');
    expect(sdkRead.status).toBe(403);
    const editorTokens = await client(registry.url, editorToken)('GET', '/v1/tokens');
    expect(editorTokens.status).toBe(403);
  });

  it('stores tokens as hashes only and revokes them', async () => {
    const { rows } = await registry.pool.query('SELECT token_hash FROM api_tokens');
    expect(rows.every((r: { token_hash: string }) => /^[0-9a-f]{64}$/.test(r.token_hash))).toBe(true);
    const listed = await admin('GET', '/v1/tokens');
    expect(JSON.stringify(listed.body)).not.toContain(editorToken);
    const temp = await admin('POST', '/v1/tokens', { name: 'temp', role: 'viewer' });
    expect((await client(registry.url, temp.body.token)('GET', '/v1/flags')).status).toBe(200);
    expect((await admin('DELETE', `/v1/tokens/${temp.body.id}`)).status).toBe(204);
    expect((await client(registry.url, temp.body.token)('GET', '/v1/flags')).status).toBe(401);
  });

  it('validates input with field paths and limits the body size', async () => {
    const editor = client(registry.url, editorToken);
    const bad = await editor('POST', '/v1/flags', {
      ...checkoutFlag,
      key: 'bad key!',
      environments: { production: { enabled: 'yes', defaultValue: true, offValue: false, rules: [] } },
    });
    expect(bad.status).toBe(400);
    const paths = bad.body.details.map((d: { path: string }) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['key', 'environments.production.enabled']));

    const wrongType = await editor('POST', '/v1/flags', {
      ...checkoutFlag,
      environments: {
        production: {
          enabled: true,
          defaultValue: 'yes',
          offValue: false,
          rules: [{ id: 'r1', conditions: [], segments: ['nope'], value: true }],
        },
      },
    });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.details).toEqual(
      expect.arrayContaining([
        { path: 'environments.production.defaultValue', message: expect.stringMatching(/boolean/) },
        { path: 'environments.production.rules.0.segments.0', message: 'unknown segment "nope"' },
      ]),
    );

    const huge = await editor('POST', '/v1/flags', { ...checkoutFlag, description: 'x'.repeat(2_000_000) });
    expect(huge.status).toBe(413);
  });

  it('creates, reads, updates and deletes flags and segments, with an audit entry for each change', async () => {
    const editor = client(registry.url, editorToken);
    const seg = await editor('POST', '/v1/segments', {
      key: 'beta',
      conditions: [{ attribute: 'plan', operator: 'in', value: ['beta', 'pro'] }],
    });
    expect(seg.status).toBe(201);

    const created = await editor('POST', '/v1/flags', checkoutFlag);
    expect(created.status).toBe(201);
    expect(created.headers.get('etag')).toBe('"1"');
    expect(Object.keys(created.body.environments).sort()).toEqual(['development', 'production', 'staging']);
    expect(created.body.environments.production).toEqual({
      enabled: false,
      defaultValue: false,
      offValue: false,
      rules: [],
    });
    expect((await editor('POST', '/v1/flags', checkoutFlag)).status).toBe(409);

    const patched = await editor(
      'PATCH',
      '/v1/flags/new_checkout/environments/production',
      {
        enabled: true,
        rules: [
          { id: 'beta', conditions: [], segments: ['beta'], value: true },
          {
            id: 'rollout',
            conditions: [],
            rollout: { percentage: 25, value: true, hashAttribute: 'userId' },
          },
        ],
      },
      { 'if-match': '"1"' },
    );
    expect(patched.status).toBe(200);
    expect(patched.body.version).toBe(2);

    const fetched = await client(registry.url, viewerToken)('GET', '/v1/flags/new_checkout');
    expect(fetched.body.environments.production.rules).toHaveLength(2);
    expect(fetched.headers.get('etag')).toBe('"2"');

    // A segment in use cannot be deleted.
    expect((await editor('DELETE', '/v1/segments/beta', undefined, { 'if-match': '"1"' })).status).toBe(409);

    const log = await editor('GET', '/v1/audit?entityType=flag&key=new_checkout');
    expect(log.body.entries.map((e: { action: string }) => e.action)).toEqual([
      'enabled:production',
      'created',
    ]);
    const enabled = log.body.entries[0];
    expect(enabled.actor).toBe('bob');
    expect(enabled.diff).toEqual(
      expect.arrayContaining([
        { path: 'environments.production.enabled', op: 'change', before: false, after: true },
        expect.objectContaining({ path: 'environments.production.rules.0', op: 'add' }),
      ]),
    );
    const byActor = await editor(
      'GET',
      `/v1/audit?actor=bob&from=${encodeURIComponent(new Date(Date.now() - 60_000).toISOString())}`,
    );
    expect(byActor.body.entries.length).toBeGreaterThanOrEqual(3);
    const future = await editor(
      'GET',
      `/v1/audit?from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`,
    );
    expect(future.body.entries).toEqual([]);

    const deleted = await editor('DELETE', '/v1/flags/new_checkout', undefined, { 'if-match': '"2"' });
    expect(deleted.status).toBe(204);
    expect((await editor('GET', '/v1/flags/new_checkout')).status).toBe(404);
    const afterDelete = await editor('GET', '/v1/audit?key=new_checkout&include=documents');
    expect(afterDelete.body.entries[0]).toMatchObject({ action: 'deleted', after: null });
  });

  it('keeps audit entries immutable', async () => {
    await expect(registry.pool.query("UPDATE audit_log SET actor = 'mallory'")).rejects.toThrow(/immutable/);
    await expect(registry.pool.query('DELETE FROM audit_log')).rejects.toThrow(/immutable/);
  });

  it('refuses a stale write with 409 and a write without a version with 428', async () => {
    const editor = client(registry.url, editorToken);
    await editor('POST', '/v1/flags', { ...checkoutFlag, key: 'race' });
    const patch = (enabled: boolean) =>
      editor('PATCH', '/v1/flags/race/environments/staging', { enabled }, { 'if-match': '"1"' });
    const [a, b] = await Promise.all([patch(true), patch(false)]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const loser = a.status === 409 ? a : b;
    expect(loser.body).toMatchObject({ error: 'version_conflict', code: 'XP_REGISTRY_VERSION_CONFLICT' });
    expect(loser.body.message).toMatch(/current version is 2/);

    const unconditional = await editor('PATCH', '/v1/flags/race/environments/staging', { enabled: true });
    expect(unconditional.status).toBe(428);
    // The version may also come in the body.
    const viaBody = await editor('PATCH', '/v1/flags/race/environments/staging', {
      enabled: true,
      version: 2,
    });
    expect(viaBody.status).toBe(200);
  });

  it('serves the OpenAPI document and the ops routes', async () => {
    const anon = client(registry.url);
    const doc = await anon('GET', '/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining(['/v1/flags', '/v1/experiments/{key}/transitions', '/sdk/v1/payload']),
    );
    expect(
      doc.body.paths['/v1/flags'].post.requestBody.content['application/json'].schema.properties.key,
    ).toBeDefined();
    expect((await anon('GET', '/healthz')).status).toBe(200);
    const ready = await anon('GET', '/readyz');
    expect(ready.body.status).toBe('ready');
    expect((await anon('GET', '/metrics')).body).toContain('xp_registry_outbox_published_total');
  });
});
