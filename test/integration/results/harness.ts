// Shared set-up of the results suites: a private registry (own database and topics) with the
// identities an experiment needs (owner, reviewer, the results service, an admin), a running
// experiment, and a local HTTP receiver for webhooks that can be told to fail.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ExperimentFacts } from '../../../services/results/facts';
import {
  ADMIN_TOKEN,
  client,
  createTestDatabase,
  deleteTopics,
  startTestRegistry,
  testEnv,
  type TestDatabase,
} from '../registry/harness';

export { ADMIN_TOKEN, client, sleep, waitFor } from '../registry/harness';

type Client = ReturnType<typeof client>;

export interface TestRegistry {
  url: string;
  admin: Client;
  owner: Client;
  reviewer: Client;
  /** The results service's identity (editor: it records summaries). */
  service: Client;
  serviceToken: string;
  close(): Promise<void>;
}

/** Webhook settings are read from the environment when the registry builds its app. */
export async function startRegistryForResults(settings: Record<string, string> = {}): Promise<TestRegistry> {
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(settings)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  let db: TestDatabase | undefined;
  try {
    db = await createTestDatabase();
    const registry = await startTestRegistry(testEnv(db));
    const admin = client(registry.url, ADMIN_TOKEN);
    const token = async (name: string, role: string) =>
      (await admin('POST', '/v1/tokens', { name, role })).body.token as string;
    const serviceToken = await token('results-service', 'editor');
    const owner = client(registry.url, await token('alice', 'editor'));
    const reviewer = client(registry.url, await token('bob', 'editor'));
    const database = db;
    return {
      url: registry.url,
      admin,
      owner,
      reviewer,
      service: client(registry.url, serviceToken),
      serviceToken,
      close: async () => {
        await registry.close();
        await deleteTopics([
          registry.config.REGISTRY_CHANGES_TOPIC,
          registry.config.REGISTRY_EXPOSURES_TOPIC,
        ]);
        await database.drop();
      },
    };
  } catch (err) {
    await db?.drop();
    throw err;
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** Creates `key` as the fixtures describe it (metrics, 50/50) and moves it to running. */
export async function startExperiment(r: TestRegistry, key: string, flagKey = `${key}_flag`): Promise<void> {
  const ok = (what: string, a: { status: number; body: unknown }) => {
    if (a.status >= 300) throw new Error(`${what}: ${a.status} ${JSON.stringify(a.body)}`);
  };
  ok('flag', await r.owner('POST', '/v1/flags', { key: flagKey, type: 'experiment', valueType: 'string' }));
  ok(
    'create',
    await r.owner('POST', '/v1/experiments', {
      key,
      name: `Checkout ${key}`,
      owner: 'alice',
      hypothesis: 'A green button raises orders',
      flagKey,
      primaryMetrics: [{ event: 'Order Completed', aggregation: 'conversion' }],
      secondaryMetrics: [{ event: 'Order Completed', aggregation: 'sum', name: 'revenue' }],
      guardrailMetrics: [{ event: 'Error', aggregation: 'count', name: 'errors', inverse: true }],
      variants: [
        { key: 'control', weight: 50, value: 'blue' },
        { key: 'treatment', weight: 50, value: 'green' },
      ],
    }),
  );
  const transition = (c: Client, to: string) => c('POST', `/v1/experiments/${key}/transitions`, { to });
  ok('in_review', await transition(r.owner, 'in_review'));
  ok('approved', await transition(r.reviewer, 'approved'));
  ok('running', await transition(r.owner, 'running'));
}

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
  at: number;
}

/**
 * A webhook receiver on loopback. Each delivery (X-XP-Delivery) is answered 500 for its first
 * `failFirst` attempts, then 204.
 */
export async function startReceiver(
  failFirst = 0,
): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const attempts = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const id = String(req.headers['x-xp-delivery']);
      const n = (attempts.get(id) ?? 0) + 1;
      attempts.set(id, n);
      const status = n <= failFirst ? 500 : 204;
      received.push({
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        status,
        at: Date.now(),
      });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook?token=receiver-secret`, received, server };
}

/** A loopback port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Facts of a 50/50 experiment with 1,000 units per variant and the given conversions. */
export function facts(
  key: string,
  o: { units?: [number, number]; converted?: [number, number]; retained?: [number, number] } = {},
): ExperimentFacts {
  const units = o.units ?? [1000, 1000];
  const converted = o.converted ?? [100, 105];
  const retained = o.retained ?? [800, 800];
  return {
    experimentKey: key,
    phase: 0,
    cuped: false,
    variants: [
      { key: 'control', weight: 50, units: units[0], excludedUnits: 2 },
      { key: 'treatment', weight: 50, units: units[1], excludedUnits: 1 },
    ],
    metrics: [
      {
        id: 'Order Completed',
        aggregation: 'conversion',
        role: 'primary',
        inverse: false,
        sums: units.map((n, i) => ({ n, sum: converted[i]!, sumSquares: converted[i]! })),
        unitsInProgress: [0, 0],
        convertedUnits: [...converted],
      },
      {
        // Guardrails are higher-is-better (metrics carry no direction yet): a drop fails.
        id: 'retained',
        aggregation: 'conversion',
        role: 'guardrail',
        inverse: false,
        sums: units.map((n, i) => ({ n, sum: retained[i]!, sumSquares: retained[i]! })),
        unitsInProgress: [0, 0],
        convertedUnits: [...retained],
      },
    ],
  };
}

/** A compiled service as a child process; its output is kept (the last 20 kB) for failure messages. */
export function spawnService(
  main: string,
  env: Record<string, string>,
): { child: ChildProcess; output: () => string } {
  let output = '';
  const child = spawn(process.execPath, ['--enable-source-maps', main], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (d: Buffer) => {
    output = (output + d.toString()).slice(-20_000);
    if (process.env.RESULTS_TEST_LOGS) process.stdout.write(d);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return { child, output: () => output };
}

/** SIGTERM, then the exit code or signal. */
export async function stop(child: ChildProcess | undefined): Promise<number | string | null> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal));
    child.kill('SIGTERM');
  });
}
