// Issue 13's acceptance test: the SDK packages as users get them. `npm pack` makes tarballs of
// packages/*, which are installed into copies of examples/node-app and examples/browser-app in
// empty folders. Against a registry and a collector (in-process, private database and topics),
// each app evaluates a flag, its exposure reaches the collector's Kafka exposures topic, and a
// kill switch flipped in the registry reaches it over the SSE stream within 2 s. The browser
// app runs in headless Chromium. (From Kafka on, the enricher and sink carry exposures into
// BigQuery; their own tests cover that leg.)
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Browser } from 'playwright-core';
import type { Exposure, TrackingEvent } from '../../../services/common/records';
import { WRITE_KEY, readAll, startCollector, type Harness } from '../collector/harness';
import {
  ADMIN_TOKEN,
  client,
  createTestDatabase,
  deleteTopics,
  startTestRegistry,
  testEnv,
  type TestDatabase,
} from '../registry/harness';
import { launchChromium, serveStatic } from '../setup/browser';

const ROOT = join(__dirname, '..', '..', '..');
const PACKAGES = ['evaluation', 'sdk-core', 'node', 'browser'];
const npm = (args: string[], cwd: string) =>
  execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });

type Line = {
  event: string;
  at: number;
  value?: unknown;
  reason?: string;
  variant?: string;
  delivered?: number;
};

describe('examples: the packed SDKs installed into empty folders', () => {
  let work: string;
  let tarballs: string[];
  let db: TestDatabase;
  let registry: Awaited<ReturnType<typeof startTestRegistry>>;
  let collector: Harness;
  let editor: ReturnType<typeof client>;
  let sdkToken: string;

  beforeAll(async () => {
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

    db = await createTestDatabase();
    registry = await startTestRegistry(testEnv(db));
    collector = await startCollector({ origins: ['*'] });
    const admin = client(registry.url, ADMIN_TOKEN);
    sdkToken = (await admin('POST', '/v1/tokens', { name: 'examples', role: 'sdk' })).body.token;
    editor = client(
      registry.url,
      (await admin('POST', '/v1/tokens', { name: 'ed', role: 'editor' })).body.token,
    );
    const created = await editor('POST', '/v1/flags', {
      key: 'checkout',
      valueType: 'string',
      type: 'experiment',
      environments: {
        production: {
          enabled: true,
          defaultValue: 'blue',
          offValue: 'off',
          rules: [
            {
              id: 'split',
              conditions: [],
              split: {
                seed: 'checkout-redesign',
                experimentKey: 'checkout-redesign',
                hashAttribute: 'userId',
                coverage: 1,
                variants: [
                  { id: 'control', value: 'blue', weight: 1 },
                  { id: 'treatment', value: 'green', weight: 1 },
                ],
              },
            },
          ],
        },
      },
    });
    expect(created.status).toBe(201);
  }, 300_000);

  afterAll(async () => {
    await registry?.close();
    await collector?.close();
    await db?.drop();
    if (registry)
      await deleteTopics([registry.config.REGISTRY_CHANGES_TOPIC, registry.config.REGISTRY_EXPOSURES_TOPIC]);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** Sets the flag's kill switch; answers when the registry acknowledged it. */
  async function killSwitch(enabled: boolean): Promise<number> {
    const current = await editor('GET', '/v1/flags/checkout');
    const res = await editor(
      'PATCH',
      '/v1/flags/checkout/environments/production',
      { enabled },
      { 'if-match': current.headers.get('etag')! },
    );
    expect(res.status).toBe(200);
    return Date.now();
  }

  async function exposuresOf(unitId: string): Promise<Exposure[]> {
    const all = await readAll<Exposure>(collector, collector.topics.exposures);
    return all.map((r) => r.value).filter((e) => e.unitId === unitId);
  }

  function install(example: string): string {
    const dir = join(work, example);
    cpSync(join(ROOT, 'examples', example), dir, { recursive: true });
    npm(['install', '--prefer-offline', ...tarballs], dir);
    return dir;
  }

  it('node-app: evaluates, logs an exposure that reaches Kafka, gets the kill switch within 2 s', async () => {
    const dir = install('node-app');
    expect(existsSync(join(dir, 'node_modules/@xp-platform/node/dist/index.mjs'))).toBe(true);
    const app: ChildProcess = spawn(process.execPath, ['index.mjs'], {
      cwd: dir,
      env: {
        ...process.env,
        XP_REGISTRY_URL: registry.url,
        XP_SDK_TOKEN: sdkToken,
        XP_COLLECTOR_URL: collector.url,
        XP_WRITE_KEY: WRITE_KEY,
        XP_FLAG: 'checkout',
        XP_USER: 'user-1',
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
      // bucket('checkout-redesign', 'user-1') = 0.51999 → treatment (docs/evaluation.md)
      expect(await waitLine('ready')).toMatchObject({
        value: 'green',
        reason: 'SPLIT',
        variant: 'treatment',
      });
      expect(await waitLine('flushed')).toMatchObject({ delivered: 1 });
      const exposures = await exposuresOf('user-1');
      expect(exposures.map((e) => [e.experimentKey, e.variationId, e.origin])).toEqual([
        ['checkout-redesign', 'treatment', 'collector'],
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

  it('browser-app in headless Chromium: evaluates, logs an exposure that reaches Kafka, gets the kill switch within 2 s', async () => {
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
        registry: registry.url,
        token: sdkToken,
        collector: collector.url,
        writeKey: WRITE_KEY,
        flag: 'checkout',
        user: 'user-2',
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
      // bucket('checkout-redesign', 'user-2') = 0.0605 → control
      expect(await waitLine('ready')).toMatchObject({ value: 'blue', reason: 'SPLIT', variant: 'control' });
      expect(await waitLine('flushed')).toMatchObject({ delivered: 1 });
      const exposures = await exposuresOf('user-2');
      expect(exposures.map((e) => [e.experimentKey, e.variationId])).toEqual([
        ['checkout-redesign', 'control'],
      ]);
      // The payload is cached for the next page load.
      expect(await page.evaluate(() => localStorage.getItem('xp:payload:production'))).toContain('checkout');

      const t0 = await killSwitch(false);
      const change = await waitLine('change', 5_000);
      expect(change).toMatchObject({ value: 'off', reason: 'DISABLED' });
      // Clocks: the page's Date.now() and the test's are the same machine's.
      expect(change.at - t0).toBeLessThan(2_000);
      console.log(`browser-app: kill switch applied ${change.at - t0} ms after the registry acknowledged it`);

      // Events still queued when the page goes away leave with navigator.sendBeacon on pagehide;
      // a wrapper notes each beacon in localStorage, read back from a page of the same origin.
      await page.evaluate(() => {
        // Root types have no DOM lib: the browser's navigator is typed by hand here.
        type Beacon = (url: string, data?: unknown) => boolean;
        const nav = (globalThis as unknown as { navigator: { sendBeacon: Beacon } }).navigator;
        const send = nav.sendBeacon.bind(nav);
        nav.sendBeacon = (url, data) => {
          localStorage.setItem('beaconed', String(url));
          return send(url, data);
        };
        const xp = (globalThis as unknown as { xp: { track(e: object): void } }).xp;
        xp.track({ event: 'Beacon Check', userId: 'user-2' });
      });
      await page.goto('about:blank');
      const until = Date.now() + 15_000;
      let beaconed: TrackingEvent[] = [];
      while (beaconed.length === 0 && Date.now() < until) {
        const raw = await readAll<TrackingEvent>(collector, collector.topics.rawEvents);
        beaconed = raw.map((r) => r.value).filter((e) => e.event === 'Beacon Check');
        if (beaconed.length === 0) await new Promise((r) => setTimeout(r, 300));
      }
      // One event, one messageId. The raw topic may hold it twice: a batch fetch in flight when
      // the page went away can arrive although the page saw it aborted, and the beacon then
      // re-sends it (at least once, as every client); the enricher drops the copy by messageId.
      expect(new Set(beaconed.map((e) => e.messageId)).size).toBe(1);
      expect(beaconed.length).toBeLessThanOrEqual(2);
      await page.goto(`${site.url}/package.json`); // same origin, not the app
      expect(await page.evaluate(() => localStorage.getItem('beaconed'))).toMatch(/\/v1\/batch\?writeKey=/);
    } finally {
      await browser?.close();
      await site.close();
      await killSwitch(true);
    }
  });
});
