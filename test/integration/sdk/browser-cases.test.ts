// The shared evaluation cases (packages/evaluation/cases/cases.json) through the browser SDK
// and the OpenFeature web provider, in headless Chromium: the packages are bundled by esbuild
// as an app would bundle them, the page evaluates every case, and the test compares. The core,
// the Node SDK and the OpenFeature server provider run the same file in their unit tests.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import { launchChromium, serveStatic } from '../setup/browser';

const ROOT = join(__dirname, '..', '..', '..');
const cases = (
  JSON.parse(readFileSync(join(ROOT, 'packages/evaluation/cases/cases.json'), 'utf8')) as {
    evaluation: Array<{
      group: string;
      name: string;
      payload: { environment: string };
      flag: string;
      context: Record<string, unknown>;
      expected: { value: unknown; reason: string; variant?: string };
    }>;
  }
).evaluation;

// Runs in the page: each case through a fresh client and a provider over it.
const ENTRY = `
import { XpBrowserClient } from '@xp-platform/browser';
import { XpWebProvider } from '@xp-platform/openfeature-web';
const METHOD = { boolean: 'resolveBooleanEvaluation', string: 'resolveStringEvaluation',
  number: 'resolveNumberEvaluation', object: 'resolveObjectEvaluation' };
window.runCases = (cases) => cases.map((c) => {
  const sdk = new XpBrowserClient({ environment: c.payload.environment, bootstrap: c.payload, cache: false });
  const result = JSON.parse(JSON.stringify(sdk.evaluate(c.flag, c.context)));
  const v = c.expected.value;
  const type = v !== null && typeof v === 'object' ? 'object' : typeof v;
  const provider = new XpWebProvider(sdk, { trackExposures: false });
  const r = METHOD[type] ? provider[METHOD[type]](c.flag, undefined, c.context) : null;
  return { result, provider: r && { value: r.value, reason: r.reason, variant: r.variant } };
});
`;

describe('cases.json in headless Chromium: browser SDK and OpenFeature web provider', () => {
  let dir: string;
  let browser: Browser | undefined;
  let out: Array<{ result: Record<string, unknown>; provider: Record<string, unknown> | null }>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'xp-browser-cases-'));
    writeFileSync(join(dir, 'entry.mjs'), ENTRY);
    writeFileSync(join(dir, 'index.html'), '<!doctype html><script type="module" src="app.js"></script>');
    await build({
      entryPoints: [join(dir, 'entry.mjs')],
      bundle: true,
      format: 'esm',
      outfile: join(dir, 'app.js'),
      nodePaths: [join(ROOT, 'node_modules')],
      logLevel: 'error',
    });
    const site = await serveStatic(dir);
    try {
      browser = await launchChromium();
      const page = await browser.newPage();
      await page.goto(`${site.url}/index.html`);
      await page.waitForFunction(() => 'runCases' in globalThis);
      out = await page.evaluate(
        (all) => (globalThis as unknown as { runCases(c: unknown): typeof out }).runCases(all),
        cases,
      );
    } finally {
      await site.close();
    }
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ran every case', () => {
    expect(cases.length).toBeGreaterThan(50);
    expect(out).toHaveLength(cases.length);
  });

  it.each(cases.map((c, i) => [c.group, c.name, i] as const))('browser SDK %s: %s', (_, __, i) => {
    expect(out[i]!.result).toEqual(cases[i]!.expected);
  });

  // As in the server provider's test: errors and null values resolve to the caller's default.
  const resolvable = cases
    .map((c, i) => [c.group, c.name, i] as const)
    .filter(([, , i]) => cases[i]!.expected.reason !== 'ERROR' && cases[i]!.expected.value !== null);
  it.each(resolvable)('OpenFeature web provider %s: %s', (_, __, i) => {
    const expected = cases[i]!.expected;
    expect(out[i]!.provider).toMatchObject({ value: expected.value, reason: expected.reason });
    if (expected.variant) expect(out[i]!.provider!.variant).toBe(expected.variant);
  });
});
