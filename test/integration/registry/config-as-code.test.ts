// Configuration as code through the `xp` CLI (compiled, run as a child process) against a
// real registry: plain-form import with a dry run, export → import round trips, lifecycle
// transitions and refusals.
import { execFile } from 'node:child_process';
import { serviceMain } from '../setup/build';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

const CLI = serviceMain('registry', 'cli.js');
type Registry = RunningRegistry & {
  config: { REGISTRY_CHANGES_TOPIC: string; REGISTRY_EXPOSURES_TOPIC: string };
};

function xp(
  url: string,
  token: string,
  ...args: string[]
): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...process.env, XP_REGISTRY_URL: url, XP_TOKEN: token } },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, out: stdout, err: stderr }),
    );
  });
}

const PLAIN = `
features:
  new_checkout: true
  button_color:
    variant_a: "blue"
    variant_b: "red"
`;

describe('configuration as code and the xp CLI', () => {
  const dbs: TestDatabase[] = [];
  const registries: Registry[] = [];
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'xp-cli-'));
    for (let i = 0; i < 2; i++) {
      const db = await createTestDatabase();
      dbs.push(db);
      const registry = await startTestRegistry(testEnv(db));
      registries.push(registry);
      // Experiment owners are identities: alice exists in both registries.
      await client(registry.url, ADMIN_TOKEN)('POST', '/v1/tokens', { name: 'alice', role: 'editor' });
    }
  });
  afterAll(async () => {
    for (const r of registries) {
      await r.close();
      await deleteTopics([r.config.REGISTRY_CHANGES_TOPIC, r.config.REGISTRY_EXPOSURES_TOPIC]);
    }
    for (const db of dbs) await db.drop();
  });

  it('imports the plain form, with a dry run first, and lists the result', async () => {
    const url = registries[0]!.url;
    const file = join(dir, 'plain.yaml');
    writeFileSync(file, PLAIN);

    const dry = await xp(url, ADMIN_TOKEN, 'import', file, '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.out).toContain('+ flag new_checkout');
    expect(dry.out).toContain('+ flag button_color');
    expect(dry.out).toContain('would change 2, unchanged 0');
    expect((await client(url, ADMIN_TOKEN)('GET', '/v1/flags')).body.flags).toEqual([]);

    const real = await xp(url, ADMIN_TOKEN, 'import', file);
    expect(real.out).toContain('changed 2, unchanged 0');
    const flag = (await client(url, ADMIN_TOKEN)('GET', '/v1/flags/button_color')).body;
    expect(flag.valueType).toBe('string');
    expect(flag.environments.production.rules[0].split.variants).toEqual([
      { id: 'variant_a', value: 'blue', weight: 1 },
      { id: 'variant_b', value: 'red', weight: 1 },
    ]);
    const bool = (await client(url, ADMIN_TOKEN)('GET', '/v1/flags/new_checkout')).body;
    expect(bool.environments.production).toEqual({
      enabled: true,
      defaultValue: true,
      offValue: false,
      rules: [],
    });

    const again = await xp(url, ADMIN_TOKEN, 'import', file);
    expect(again.out).toContain('changed 0, unchanged 2');

    const listed = await xp(url, ADMIN_TOKEN, 'list', 'flags');
    expect(listed.out).toMatch(/button_color\tv1\tstring development:on production:on staging:on/);
  });

  it('round-trips export → import exactly, including segments and experiments', async () => {
    const [one, two] = registries as [Registry, Registry];
    const api = client(one.url, ADMIN_TOKEN);
    await api('POST', '/v1/segments', {
      key: 'fr',
      conditions: [{ attribute: 'country', operator: 'eq', value: 'FR' }],
    });
    await api('POST', '/v1/flags', {
      key: 'pricing',
      valueType: 'json',
      prerequisites: [{ flag: 'new_checkout', value: true }],
      environments: {
        staging: {
          enabled: true,
          defaultValue: { tier: 'basic' },
          offValue: null,
          rules: [
            {
              id: 'fr',
              conditions: [{ attribute: 'appVersion', operator: 'semver_gte', value: '2.1.0' }],
              segments: ['fr'],
              value: { tier: 'pro' },
            },
            {
              id: 'ramp',
              conditions: [],
              rollout: { percentage: 12.5, value: { tier: 'beta' }, hashAttribute: 'deviceId' },
            },
          ],
        },
      },
    });
    await api('POST', '/v1/experiments', {
      key: 'btn',
      name: 'Button colour: "quoted" & multi\nline',
      owner: 'alice',
      hypothesis: 'Red wins',
      flagKey: 'button_color',
      primaryMetrics: [{ event: 'Order Completed', aggregation: 'mean' }],
      variants: [
        { key: 'variant_a', weight: 1, value: 'blue' },
        { key: 'variant_b', weight: 3, value: 'red' },
      ],
      trafficCoverage: 0.25,
      targeting: { conditions: [], segments: ['fr'] },
      startAt: '2026-01-01T00:00:00.000Z',
      layer: { key: 'checkout', start: 0, end: 0.5 },
    });

    const exported = await xp(one.url, ADMIN_TOKEN, 'export');
    expect(exported.code).toBe(0);
    expect(exported.out).toMatch(/^version: 1\n/);
    const file = join(dir, 'export.yaml');
    writeFileSync(file, exported.out);

    // Into the same registry: nothing to do.
    const same = await xp(one.url, ADMIN_TOKEN, 'import', file, '--dry-run');
    expect(same.out).toContain('would change 0, unchanged 5');
    // Into an empty one: everything created, and its export is byte for byte the same.
    const other = await xp(two.url, ADMIN_TOKEN, 'import', file);
    expect(other.out).toContain('changed 5, unchanged 0');
    const reExported = await xp(two.url, ADMIN_TOKEN, 'export');
    expect(reExported.out).toBe(exported.out);
  });

  it('shows a diff on a dry run and refuses frozen changes of a running experiment', async () => {
    const one = registries[0]!;
    const admin = client(one.url, ADMIN_TOKEN);
    const reviewer = (await admin('POST', '/v1/tokens', { name: 'rita', role: 'editor' })).body
      .token as string;
    expect((await xp(one.url, ADMIN_TOKEN, 'transition', 'btn', 'in_review')).out).toContain(
      'btn is now in_review',
    );
    const self = await xp(one.url, 'not-a-token', 'transition', 'btn', 'approved');
    expect(self.code).toBe(1);
    expect(self.err).toContain('401');
    expect((await xp(one.url, reviewer, 'transition', 'btn', 'approved')).code).toBe(0);
    expect((await xp(one.url, ADMIN_TOKEN, 'transition', 'btn', 'running')).out).toContain('now running');
    const refused = await xp(one.url, ADMIN_TOKEN, 'transition', 'btn', 'concluded');
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('cannot go from running to concluded');

    const exported = (await xp(one.url, ADMIN_TOKEN, 'export')).out;
    // The experiment's weight (the last one: the flag's managed rule comes first) and a flag value.
    const at = exported.lastIndexOf('weight: 3');
    const changed = (exported.slice(0, at) + 'weight: 5' + exported.slice(at + 9)).replace(
      'defaultValue: true',
      'defaultValue: false',
    );
    const file = join(dir, 'changed.yaml');
    writeFileSync(file, changed);
    const dry = await xp(one.url, ADMIN_TOKEN, 'import', file, '--dry-run');
    expect(dry.err).toBe('');
    expect(dry.out).toContain('~ experiment btn');
    expect(dry.out).toContain('variants.1.weight: 3 → 5');
    expect(dry.out).toMatch(/! experiment btn: variants are frozen while running/);
    const real = await xp(one.url, ADMIN_TOKEN, 'import', file);
    expect(real.code).toBe(1);
    expect(real.err).toContain('409');
    // All or nothing: the flag change in the same file was not applied either.
    const flag = (await admin('GET', '/v1/flags/new_checkout')).body;
    expect(flag.environments.production.defaultValue).toBe(true);
  });

  it('reports YAML and validation errors with their location', async () => {
    const api = client(registries[0]!.url, ADMIN_TOKEN);
    const broken = await api('POST', '/v1/config/import', { yaml: 'features: [unclosed', dryRun: true });
    expect(broken.status).toBe(400);
    expect(broken.body.details[0].path).toMatch(/^line \d+/);
    const invalid = await api('POST', '/v1/config/import', {
      yaml: 'flags:\n  x:\n    valueType: colour\n',
      dryRun: true,
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.details[0].path).toBe('flags.x.valueType');
  });
});
