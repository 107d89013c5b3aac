// `make bench-flags`: flag evaluation throughput of our core against the GrowthBook and
// Unleash Node SDKs (both evaluating locally), all three in one run on one rule set, then
// the payload endpoint's latency under concurrent load.
//
// Rule set (issue 3): 20 flags — 10 release flags at a 25% rollout on userId; 5 with
// attribute targeting (country in a list, plan equals a value, app version at least a
// semver); 5 experiment flags with 2–3 weighted variants — over 200k distinct users.
//
// Environment: BENCH_USERS (200000), BENCH_ROUNDS (3, best of), BENCH_PAYLOAD_SECONDS (10),
// BENCH_CONNECTIONS (50), DATABASE_URL, KAFKA_BROKERS, SCHEMA_REGISTRY_URL (the local stack).
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { GrowthBookClient } from '@growthbook/growthbook';
import autocannon from 'autocannon';
import { Client } from 'pg';
import { InMemStorageProvider, Unleash } from 'unleash-client';
import { evaluate, type EvaluationContext, type Flag, type Rule } from '@xp-platform/evaluation';

const USERS = Number(process.env.BENCH_USERS ?? 200_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const COUNTRIES = ['US', 'GB', 'FR', 'DE', 'CA', 'JP', 'BR', 'IN', 'ES', 'IT'];
const PLANS = ['free', 'pro', 'enterprise'];

interface Spec {
  key: string;
  kind: 'release' | 'targeting' | 'experiment';
  countries?: string[];
  plan?: string;
  minVersion?: string;
  variants?: { id: string; weight: number }[];
}

const SPECS: Spec[] = [
  ...Array.from({ length: 10 }, (_, i): Spec => ({ key: `release_${i}`, kind: 'release' })),
  { key: 'target_country', kind: 'targeting', countries: ['US', 'CA', 'GB'] },
  { key: 'target_plan', kind: 'targeting', plan: 'pro' },
  { key: 'target_version', kind: 'targeting', minVersion: '2.3.0' },
  { key: 'target_country_plan', kind: 'targeting', countries: ['FR', 'DE', 'ES', 'IT'], plan: 'enterprise' },
  { key: 'target_plan_version', kind: 'targeting', plan: 'free', minVersion: '1.5.0' },
  ...Array.from({ length: 5 }, (_, i): Spec => ({
    key: `experiment_${i}`,
    kind: 'experiment',
    variants:
      i % 2 === 0
        ? [
            { id: 'control', weight: 50 },
            { id: 'treatment', weight: 50 },
          ]
        : [
            { id: 'control', weight: 50 },
            { id: 'a', weight: 25 },
            { id: 'b', weight: 25 },
          ],
  })),
];

interface User {
  userId: string;
  country: string;
  plan: string;
  appVersion: string;
}

function users(n: number): User[] {
  return Array.from({ length: n }, (_, i) => ({
    userId: `user-${i}`,
    country: COUNTRIES[i % COUNTRIES.length]!,
    plan: PLANS[(i * 7) % PLANS.length]!,
    appVersion: `${1 + (i % 3)}.${(i * 13) % 10}.${i % 5}`,
  }));
}

// ---- our core ---------------------------------------------------------------------------

function ourFlags(): Record<string, Flag> {
  const flags: Record<string, Flag> = {};
  for (const s of SPECS) {
    const experiment = s.kind === 'experiment';
    let rule: Rule;
    if (s.kind === 'release') {
      rule = {
        id: 'rollout',
        conditions: [],
        rollout: { percentage: 25, value: true, hashAttribute: 'userId' },
      };
    } else if (s.kind === 'targeting') {
      rule = {
        id: 'target',
        conditions: [
          ...(s.countries ? [{ attribute: 'country', operator: 'in' as const, value: s.countries }] : []),
          ...(s.plan ? [{ attribute: 'plan', operator: 'eq' as const, value: s.plan }] : []),
          ...(s.minVersion
            ? [{ attribute: 'appVersion', operator: 'semver_gte' as const, value: s.minVersion }]
            : []),
        ],
        value: true,
      };
    } else {
      rule = {
        id: 'split',
        conditions: [],
        split: {
          variants: s.variants!.map((v) => ({ id: v.id, value: v.id, weight: v.weight })),
          hashAttribute: 'userId',
          seed: s.key,
          coverage: 1,
        },
      };
    }
    flags[s.key] = {
      key: s.key,
      type: experiment ? 'experiment' : 'release',
      valueType: experiment ? 'string' : 'boolean',
      description: '',
      owner: 'bench',
      tags: [],
      environments: {
        production: {
          enabled: true,
          defaultValue: experiment ? 'control' : false,
          offValue: experiment ? 'control' : false,
          rules: [rule],
        },
      },
    };
  }
  return flags;
}

// ---- GrowthBook -------------------------------------------------------------------------

function growthbookFeatures(): Record<string, unknown> {
  const features: Record<string, unknown> = {};
  for (const s of SPECS) {
    if (s.kind === 'release') {
      features[s.key] = {
        defaultValue: false,
        rules: [{ force: true, coverage: 0.25, hashAttribute: 'userId', seed: s.key, hashVersion: 2 }],
      };
    } else if (s.kind === 'targeting') {
      const condition: Record<string, unknown> = {};
      if (s.countries) condition.country = { $in: s.countries };
      if (s.plan) condition.plan = s.plan;
      if (s.minVersion) condition.appVersion = { $vgte: s.minVersion };
      features[s.key] = { defaultValue: false, rules: [{ condition, force: true }] };
    } else {
      const total = s.variants!.reduce((a, v) => a + v.weight, 0);
      features[s.key] = {
        defaultValue: 'control',
        rules: [
          {
            key: s.key,
            variations: s.variants!.map((v) => v.id),
            weights: s.variants!.map((v) => v.weight / total),
            hashAttribute: 'userId',
            hashVersion: 2,
            coverage: 1,
          },
        ],
      };
    }
  }
  return features;
}

// ---- Unleash ------------------------------------------------------------------------------

function unleashToggles(): unknown[] {
  return SPECS.map((s) => {
    const base = {
      name: s.key,
      enabled: true,
      type: s.kind === 'experiment' ? 'experiment' : 'release',
      project: 'default',
    };
    if (s.kind === 'release') {
      return {
        ...base,
        strategies: [
          {
            name: 'flexibleRollout',
            parameters: { rollout: '25', stickiness: 'userId', groupId: s.key },
            constraints: [],
          },
        ],
      };
    }
    if (s.kind === 'targeting') {
      const constraints = [
        ...(s.countries ? [{ contextName: 'country', operator: 'IN', values: s.countries }] : []),
        ...(s.plan ? [{ contextName: 'plan', operator: 'IN', values: [s.plan] }] : []),
        // "at least" is "not less than"
        ...(s.minVersion
          ? [{ contextName: 'appVersion', operator: 'SEMVER_LT', value: s.minVersion, inverted: true }]
          : []),
      ];
      return { ...base, strategies: [{ name: 'default', parameters: {}, constraints }] };
    }
    return {
      ...base,
      strategies: [
        {
          name: 'flexibleRollout',
          parameters: { rollout: '100', stickiness: 'userId', groupId: s.key },
          constraints: [],
          variants: s.variants!.map((v) => ({
            name: v.id,
            weight: v.weight * 10,
            weightType: 'variable',
            stickiness: 'userId',
            payload: { type: 'string', value: v.id },
          })),
        },
      ],
    };
  });
}

async function startUnleash(): Promise<Unleash> {
  const unleash = new Unleash({
    // Never contacted: the toggles come from the bootstrap and no refresh is scheduled.
    url: 'http://127.0.0.1:9/api',
    appName: 'xp-bench',
    refreshInterval: 0,
    disableMetrics: true,
    bootstrap: { data: unleashToggles() as never },
    storageProvider: new InMemStorageProvider(),
    skipInstanceCountWarning: true,
  });
  unleash.on('error', () => undefined);
  unleash.on('warn', () => undefined);
  await new Promise<void>((resolve) => unleash.once('ready', () => resolve()));
  return unleash;
}

// ---- measurement --------------------------------------------------------------------------

interface Engine {
  name: string;
  /** Evaluates every flag for user i; returns a checksum so nothing is optimised away. */
  prepare(all: User[]): (i: number) => number;
}

function measure(engine: Engine, all: User[]): { evalsPerSec: number; trueShare: number } {
  const run = engine.prepare(all);
  for (let i = 0; i < Math.min(20_000, all.length); i++) run(i); // warm-up
  let best = Infinity;
  let checksum = 0;
  for (let round = 0; round < ROUNDS; round++) {
    checksum = 0;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < all.length; i++) checksum += run(i);
    const ns = Number(process.hrtime.bigint() - t0);
    best = Math.min(best, ns);
  }
  return {
    evalsPerSec: (all.length * SPECS.length) / (best / 1e9),
    trueShare: checksum / (all.length * SPECS.length),
  };
}

const releaseKeys = SPECS.filter((s) => s.kind !== 'experiment').map((s) => s.key);
const experimentKeys = SPECS.filter((s) => s.kind === 'experiment').map((s) => s.key);

async function evaluationBench(): Promise<void> {
  const all = users(USERS);
  const flags = ourFlags();
  const flagList = SPECS.map((s) => flags[s.key]!);
  const gb = new GrowthBookClient({ trackingCallback: () => undefined }).initSync({
    payload: { features: growthbookFeatures() as never },
  });
  const unleash = await startUnleash();

  const engines: Engine[] = [
    {
      name: 'xp core',
      prepare: (u) => {
        const contexts: EvaluationContext[] = u.map((x) => ({ ...x }));
        const options = { environment: 'production', flags };
        return (i) => {
          const ctx = contexts[i]!;
          let on = 0;
          for (let f = 0; f < flagList.length; f++) {
            const r = evaluate(flagList[f]!, ctx, options);
            if (r.value === true || (r.value !== 'control' && typeof r.value === 'string')) on++;
          }
          return on;
        };
      },
    },
    {
      name: '@growthbook/growthbook',
      prepare: (u) => {
        const contexts = u.map((x) => ({ attributes: { ...x } }));
        return (i) => {
          const ctx = contexts[i]!;
          let on = 0;
          for (const k of releaseKeys) if (gb.evalFeature(k, ctx).value === true) on++;
          for (const k of experimentKeys) if (gb.evalFeature(k, ctx).value !== 'control') on++;
          return on;
        };
      },
    },
    {
      name: 'unleash-client',
      prepare: (u) => {
        const contexts = u.map((x) => ({
          userId: x.userId,
          properties: { country: x.country, plan: x.plan, appVersion: x.appVersion },
        }));
        return (i) => {
          const ctx = contexts[i]!;
          let on = 0;
          for (const k of releaseKeys) if (unleash.isEnabled(k, ctx)) on++;
          for (const k of experimentKeys) if (unleash.getVariant(k, ctx).name !== 'control') on++;
          return on;
        };
      },
    },
  ];

  console.log(
    `flag evaluation: ${SPECS.length} flags × ${USERS} users, best of ${ROUNDS} rounds, Node ${process.version}`,
  );
  // The packaged core as users install it (packages/evaluation/dist), not the TypeScript sources.
  console.log(`  xp core: @xp-platform/evaluation from ${require.resolve('@xp-platform/evaluation')}`);
  const results = engines.map((e) => ({ name: e.name, ...measure(e, all) }));
  unleash.destroy();
  const peer = Math.max(results[1]!.evalsPerSec, results[2]!.evalsPerSec);
  for (const r of results) {
    console.log(
      `  ${r.name.padEnd(24)} ${Math.round(r.evalsPerSec).toLocaleString('en-US').padStart(12)} evals/s` +
        `   served non-default ${(r.trueShare * 100).toFixed(1)}%`,
    );
  }
  const ratio = results[0]!.evalsPerSec / peer;
  const faster = results[1]!.evalsPerSec >= results[2]!.evalsPerSec ? results[1]!.name : results[2]!.name;
  console.log(
    `  ratio xp core / ${faster} (the faster peer): ${ratio.toFixed(2)}× (target ≥ 2×) ${ratio >= 2 ? 'PASS' : 'MISS'}`,
  );
}

// ---- payload endpoint ---------------------------------------------------------------------

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function payloadBench(): Promise<void> {
  const base = process.env.DATABASE_URL ?? 'postgresql://xp:xp@127.0.0.1:5432/xp';
  const dbName = `xp_bench_${Date.now().toString(36)}`;
  const admin = new Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const url = new URL(base);
  url.pathname = `/${dbName}`;
  const port = await freePort();
  const token = 'bench-admin-token-0123456789';
  const child = spawn(process.execPath, [join(__dirname, '..', 'services', 'registry', 'main.js')], {
    env: {
      ...process.env,
      DATABASE_URL: url.toString(),
      REGISTRY_PORT: String(port),
      REGISTRY_BOOTSTRAP_ADMIN_TOKEN: token,
      REGISTRY_CHANGES_TOPIC: `bench.registry.changes.${dbName}`,
      REGISTRY_EXPOSURES_TOPIC: `bench.exposures.${dbName}`,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const registry = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; ; i++) {
      if (
        await fetch(`${registry}/healthz`).then(
          (r) => r.ok,
          () => false,
        )
      )
        break;
      if (i > 300) throw new Error('registry did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    for (const flag of Object.values(ourFlags())) {
      const { key, type, valueType, environments } = flag;
      await fetch(`${registry}/v1/flags`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ key, type, valueType, environments }),
      });
    }
    const path = '/sdk/v1/payload?environment=production';
    const first = await fetch(registry + path, { headers });
    const etag = first.headers.get('etag')!;
    const bytes = (await first.text()).length;
    const seconds = Number(process.env.BENCH_PAYLOAD_SECONDS ?? 10);
    const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
    console.log(
      `\npayload endpoint: ${connections} connections, ${seconds}s each, ${bytes}-byte payload (20 flags)`,
    );
    for (const [label, extra] of [
      ['200 (full payload)', {}],
      ['304 (If-None-Match)', { 'if-none-match': etag }],
    ] as const) {
      const result = await autocannon({
        url: registry + path,
        connections,
        duration: seconds,
        headers: { authorization: `Bearer ${token}`, ...extra },
      });
      const l = result.latency;
      console.log(
        `  ${label.padEnd(20)} ${Math.round(result.requests.average).toLocaleString('en-US').padStart(8)} req/s` +
          `   p50 ${l.p50} ms   p99 ${l.p99} ms   max ${l.max} ms   2xx ${result['2xx']} 3xx ${result['3xx']} other ${result['4xx'] + result['5xx'] + result.errors}`,
      );
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
  }
}

async function main(): Promise<void> {
  await evaluationBench();
  if (process.env.BENCH_SKIP_PAYLOAD !== '1') await payloadBench();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
