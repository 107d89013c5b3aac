// Issue 13's acceptance test: the SDK packages as users get them. `npm pack` makes tarballs of
// packages/*, which are installed into copies of examples/node-app and examples/browser-app in
// empty folders. Against the services `make up` started (registry, collector, enricher, sink),
// each app evaluates a running experiment's flag, logs an exposure that reaches BigQuery's
// `exposures` table once, attributed to the running phase, and receives a kill switch flipped
// in the registry over the SSE stream within 2 s. The browser app runs in headless Chromium.
// Keys and users are unique to the run, so the shared stack's other data does not interfere.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Browser } from 'playwright-core';
import { createBigQuery } from '../../../services/common/bigquery';
import { client, waitFor } from '../registry/harness';
import { launchChromium, serveStatic } from '../setup/browser';
import { requireServices, services, stack } from '../setup/stack';

const ROOT = join(__dirname, '..', '..', '..');
const PACKAGES = ['evaluation', 'sdk-core', 'node', 'browser'];
const VALUES: Record<string, string> = { control: 'blue', treatment: 'green' };
const npm = (args: string[], cwd: string) =>
  execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
const bigquery = createBigQuery({
  projectId: stack.bigqueryProject,
  location: 'US',
  apiEndpoint: stack.bigqueryEndpoint,
});

type Line = {
  event: string;
  at: number;
  value?: unknown;
  reason?: string;
  variant?: string;
  delivered?: number;
};

/** Rows of a query on the stack's dataset (`T` stands for the dataset). */
async function query(sql: string, params: Record<string, unknown>): Promise<Record<string, unknown>[]> {
  const [rows] = await bigquery.query({ query: sql.replaceAll('T.', `\`${services.dataset}\`.`), params });
  return rows as Record<string, unknown>[];
}

describe('examples: the packed SDKs installed into empty folders, against the stack', () => {
  const run = `examples-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
  const flagKey = run;
  let work: string;
  let tarballs: string[];
  let admin: ReturnType<typeof client>;
  let sdkToken: string;

  beforeAll(async () => {
    await requireServices('registry', 'collector', 'enricher', 'sink');
    work = mkdtempSync(join(tmpdir(), 'xp-examples-'));
    for (const p of PACKAGES) {
      if (!existsSync(join(ROOT, 'packages', p, 'dist', 'index.cjs')))
        npm(['run', 'build'], join(ROOT, 'packages', p));
      npm(['pack', '--pack-destination', work], join(ROOT, 'packages', p));
    }
    tarballs = readdirSync(work)
      .filter((f) => f.endsWith('.tgz'))
      .map((f) => join(work, f));
    expect(tarballs).toHaveLength(PACKAGES.length);

    // A running experiment, as an owner and a reviewer (another identity) make one.
    admin = client(services.registry, services.adminToken);
    const token = async (name: string, role: string) => {
      const res = await admin('POST', '/v1/tokens', { name: `${run}-${name}`, role });
      expect(res.status).toBe(201);
      return res.body.token as string;
    };
    sdkToken = await token('sdk', 'sdk');
    const reviewer = client(services.registry, await token('reviewer', 'editor'));
    expect(
      (
        await admin('POST', '/v1/flags', {
          key: flagKey,
          type: 'experiment',
          valueType: 'string',
          owner: 'bootstrap-admin',
          environments: { production: { enabled: true, defaultValue: 'blue', offValue: 'off', rules: [] } },
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await admin('POST', '/v1/experiments', {
          key: run,
          name: 'Examples: checkout colour',
          hypothesis: 'The example apps expose units to a running experiment',
          owner: 'bootstrap-admin',
          flagKey,
          environment: 'production',
          primaryMetrics: [{ event: 'Order Completed', aggregation: 'conversion', name: 'orders' }],
          variants: Object.entries(VALUES).map(([key, value]) => ({ key, weight: 0.5, value })),
        })
      ).status,
    ).toBe(201);
    for (const [who, to] of [
      [admin, 'in_review'],
      [reviewer, 'approved'],
      [admin, 'running'],
    ] as const) {
      const { version } = (await admin('GET', `/v1/experiments/${run}`)).body as { version: number };
      const res = await who('POST', `/v1/experiments/${run}/transitions`, { to, version });
      expect([res.status, res.body]).toEqual([200, expect.objectContaining({ status: to })]);
    }
  }, 300_000);

  afterAll(async () => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** Sets the flag's kill switch; answers when the registry acknowledged it. */
  async function killSwitch(enabled: boolean): Promise<number> {
    const current = await admin('GET', `/v1/flags/${flagKey}`);
    const res = await admin(
      'PATCH',
      `/v1/flags/${flagKey}/environments/production`,
      { enabled },
      { 'if-match': current.headers.get('etag')! },
    );
    expect(res.status).toBe(200);
    return Date.now();
  }

  /** The unit's exposures in BigQuery, once the sink has loaded at least one. */
  async function exposuresInBigQuery(unitId: string): Promise<Record<string, unknown>[]> {
    const started = Date.now();
    const rows = await waitFor(
      `${unitId}'s exposure in BigQuery`,
      async () => {
        const r = await query(
          `SELECT message_id, variation_id, phase, in_running_phase, origin FROM T.exposures
           WHERE experiment_key = @e AND unit_id = @u`,
          { e: run, u: unitId },
        );
        return r.length > 0 && r;
      },
      90_000,
    );
    console.log(`${unitId}: exposure queryable in BigQuery ${Date.now() - started} ms after the app flushed`);
    return rows;
  }

  function install(example: string): string {
    const dir = join(work, example);
    cpSync(join(ROOT, 'examples', example), dir, { recursive: true });
    npm(['install', '--prefer-offline', ...tarballs], dir);
    return dir;
  }

  it('node-app: evaluates, logs an exposure that reaches BigQuery once, gets the kill switch within 2 s', async () => {
    const dir = install('node-app');
    expect(existsSync(join(dir, 'node_modules/@xp-platform/node/dist/index.mjs'))).toBe(true);
    const app: ChildProcess = spawn(process.execPath, ['index.mjs'], {
      cwd: dir,
      env: {
        ...process.env,
        XP_REGISTRY_URL: services.registry,
        XP_SDK_TOKEN: sdkToken,
        XP_COLLECTOR_URL: services.collector,
        XP_WRITE_KEY: services.writeKey,
        XP_FLAG: flagKey,
        XP_USER: `${run}-node`,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines: Line[] = [];
    createInterface({ input: app.stdout! }).on('line', (l) => lines.push(JSON.parse(l) as Line));
    const waitLine = async (event: string, timeoutMs = 20_000) => {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const found = lines.find((l) => l.event === event);
        if (found) return found;
        if (Date.now() > until) throw new Error(`node-app printed no ${event}: ${JSON.stringify(lines)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    try {
      const ready = await waitLine('ready');
      expect(ready).toMatchObject({ reason: 'SPLIT', value: VALUES[ready.variant!] });
      expect(await waitLine('flushed')).toMatchObject({ delivered: 1 });
      expect(await exposuresInBigQuery(`${run}-node`)).toEqual([
        expect.objectContaining({
          variation_id: ready.variant,
          phase: 0,
          in_running_phase: true,
          origin: 'collector',
        }),
      ]);

      const t0 = await killSwitch(false);
      const change = await waitLine('change', 5_000);
      expect(change).toMatchObject({ value: 'off', reason: 'DISABLED' });
      expect(change.at - t0).toBeLessThan(2_000);
      console.log(`node-app: kill switch applied ${change.at - t0} ms after the registry acknowledged it`);
    } finally {
      app.kill('SIGTERM');
      await new Promise((r) => app.once('exit', r));
      await killSwitch(true);
    }
  });

  it('browser-app in headless Chromium: evaluates, logs an exposure that reaches BigQuery once, gets the kill switch within 2 s', async () => {
    const dir = install('browser-app');
    const esbuild = join(ROOT, 'node_modules/.bin/esbuild');
    execFileSync(esbuild, ['main.mjs', '--bundle', '--format=esm', '--minify', '--outfile=dist/main.js'], {
      cwd: dir,
    });
    const site = await serveStatic(dir);
    let browser: Browser | undefined;
    try {
      browser = await launchChromium();
      const page = await browser.newPage();
      const q = new URLSearchParams({
        registry: services.registry,
        token: sdkToken,
        collector: services.collector,
        writeKey: services.writeKey,
        flag: flagKey,
        user: `${run}-browser`,
      });
      await page.goto(`${site.url}/index.html?${q}`);
      const log = () => page.evaluate(() => (globalThis as unknown as { xpLog?: Line[] }).xpLog ?? []);
      const waitLine = async (event: string, timeoutMs = 20_000) => {
        const until = Date.now() + timeoutMs;
        for (;;) {
          const found = (await log()).find((l) => l.event === event);
          if (found) return found;
          if (Date.now() > until)
            throw new Error(`browser-app logged no ${event}: ${JSON.stringify(await log())}`);
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      const ready = await waitLine('ready');
      expect(ready).toMatchObject({ reason: 'SPLIT', value: VALUES[ready.variant!] });
      expect(await waitLine('flushed')).toMatchObject({ delivered: 1 });
      expect(await exposuresInBigQuery(`${run}-browser`)).toEqual([
        expect.objectContaining({ variation_id: ready.variant, phase: 0, in_running_phase: true }),
      ]);
      // The payload is cached for the next page load.
      expect(await page.evaluate(() => localStorage.getItem('xp:payload:production'))).toContain(flagKey);

      const t0 = await killSwitch(false);
      const change = await waitLine('change', 5_000);
      expect(change).toMatchObject({ value: 'off', reason: 'DISABLED' });
      // Clocks: the page's Date.now() and the test's are the same machine's.
      expect(change.at - t0).toBeLessThan(2_000);
      console.log(`browser-app: kill switch applied ${change.at - t0} ms after the registry acknowledged it`);

      // Events still queued when the page goes away leave with navigator.sendBeacon on pagehide;
      // a wrapper notes each beacon in localStorage, read back from a page of the same origin.
      const user = `${run}-browser`;
      await page.evaluate((userId) => {
        // Root types have no DOM lib: the browser's navigator is typed by hand here.
        type Beacon = (url: string, data?: unknown) => boolean;
        const nav = (globalThis as unknown as { navigator: { sendBeacon: Beacon } }).navigator;
        const send = nav.sendBeacon.bind(nav);
        nav.sendBeacon = (url, data) => {
          localStorage.setItem('beaconed', String(url));
          return send(url, data);
        };
        const xp = (globalThis as unknown as { xp: { track(e: object): void } }).xp;
        xp.track({ event: 'Beacon Check', userId });
      }, user);
      await page.goto('about:blank');
      // One row in BigQuery. The collector may have received it twice: a batch fetch in flight
      // when the page went away can arrive although the page saw it aborted, and the beacon then
      // re-sends it (at least once, as every client); the enricher drops the copy by messageId.
      const beaconed = () =>
        query(`SELECT message_id FROM T.events WHERE unit_id = @u AND event = 'Beacon Check'`, { u: user });
      await waitFor('the beaconed event in BigQuery', async () => (await beaconed()).length > 0, 90_000);
      await new Promise((r) => setTimeout(r, 3_000)); // a copy would have been loaded by now
      expect(await beaconed()).toHaveLength(1);
      await page.goto(`${site.url}/package.json`); // same origin, not the app
      expect(await page.evaluate(() => localStorage.getItem('beaconed'))).toMatch(/\/v1\/batch\?writeKey=/);
    } finally {
      await browser?.close();
      await site.close();
      await killSwitch(true);
    }
  });
});
