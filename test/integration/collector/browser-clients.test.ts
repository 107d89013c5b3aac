// Issue 12, browser clients: Segment's analytics-next and RudderStack's JS SDK v3, built from
// their npm packages with esbuild and run unchanged in a real headless Chromium (Debian's, via
// playwright-core), pointed at the collector. Each sends track, identify, page and
// `Experiment Viewed` plus a batch; every event must be in Kafka exactly once.
// clients.test.ts replays the same wire formats over HTTP without a browser.
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import type { Exposure, TrackingEvent } from '../../../services/common/records';
import { launchChromium, serveStatic } from '../setup/browser';
import { WRITE_KEY, readAll, startCollector, type Harness } from './harness';

const EXPERIMENT = { experiment_id: 'checkout-button', variation_id: 'green' };
const run = Date.now().toString(36);

async function bundle(entry: string): Promise<string> {
  const out = await build({
    entryPoints: [join(__dirname, 'browser', entry)],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    write: false,
    logLevel: 'error',
  });
  return out.outputFiles[0]!.text;
}

/** Waits until the raw topic holds `expected` records, then asserts one per messageId. */
async function exactlyOnce(h: Harness, expected: number): Promise<TrackingEvent[]> {
  const until = Date.now() + 30_000;
  let raw = await readAll<TrackingEvent>(h, h.topics.rawEvents);
  while (raw.length < expected && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 500));
    raw = await readAll<TrackingEvent>(h, h.topics.rawEvents);
  }
  // A little longer: a duplicate would arrive after the expected count.
  await new Promise((r) => setTimeout(r, 1_500));
  raw = await readAll<TrackingEvent>(h, h.topics.rawEvents);
  const ids = raw.map((r) => r.value.messageId);
  expect(ids.length - new Set(ids).size).toBe(0);
  expect(raw).toHaveLength(expected);
  return raw.map((r) => r.value);
}

describe('browser tracking clients in headless Chromium, against the collector', () => {
  let browser: Browser;
  let h: Harness;
  let site: Awaited<ReturnType<typeof serveStatic>>;
  const pages: Record<string, string> = {};

  beforeAll(async () => {
    const [segment, rudderstack] = await Promise.all([
      bundle('segment.entry.mjs'),
      bundle('rudderstack.entry.mjs'),
    ]);
    pages['/segment.js'] = segment;
    pages['/rudderstack.js'] = rudderstack;
    pages['/segment.html'] = '<!doctype html><html><body><script src="/segment.js"></script></body></html>';
    pages['/rudderstack.html'] =
      '<!doctype html><html><body><script src="/rudderstack.js"></script></body></html>';
    site = await serveStatic(__dirname, pages);
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await site?.close();
  });
  beforeEach(async () => {
    h = await startCollector({ origins: [site.url] });
  });
  afterEach(() => h.close());

  it("Segment's analytics-next: short routes and a /v1/b batch, every call once", async () => {
    const page = await browser.newPage();
    const failed: string[] = [];
    page.on('requestfailed', (r) => failed.push(`${r.url()} ${r.failure()?.errorText}`));
    const routes = new Set<string>();
    page.on('response', (r) => {
      if (!r.url().startsWith(h.url)) return;
      routes.add(new URL(r.url()).pathname);
      if (r.status() >= 300) failed.push(`${r.url()} ${r.status()}`);
    });
    await page.goto(`${site.url}/segment.html`);
    const userId = `segment-browser-${run}`;
    await page.evaluate(
      (args) => (globalThis as unknown as { runSegment(a: unknown): Promise<string> }).runSegment(args),
      { host: h.url.replace(/^http:\/\//, ''), writeKey: WRITE_KEY, userId, experiment: EXPERIMENT },
    );
    const events = await exactlyOnce(h, 4 + 1 + 10);
    await page.close();
    expect(failed.filter((f) => !f.includes('cdn.segment'))).toEqual([]);
    expect(routes).toEqual(new Set(['/v1/i', '/v1/t', '/v1/p', '/v1/b']));
    expect(events.filter((e) => e.event === 'Clicked')).toHaveLength(10);
    expect(events.every((e) => e.userId === userId)).toBe(true);
    const exposures = (await readAll<Exposure>(h, h.topics.exposures)).map((r) => r.value);
    expect(exposures.map((e) => [e.unitId, e.experimentKey, e.variationId])).toEqual([
      [userId, 'checkout-button', 'green'],
    ]);
  });

  it("RudderStack's JS SDK v3: /v1/track, /v1/identify, /v1/page with its AnonymousId header, and /v1/batch, every call once", async () => {
    const userId = `rudder-browser-${run}`;
    const args = { host: h.url, writeKey: WRITE_KEY, userId, experiment: EXPERIMENT };
    const statuses: string[] = [];
    for (const batch of [false, true]) {
      const page = await browser.newPage();
      page.on('response', (r) => {
        if (r.url().startsWith(h.url)) statuses.push(`${new URL(r.url()).pathname} ${r.status()}`);
      });
      await page.goto(`${site.url}/rudderstack.html`);
      await page.evaluate(
        (a) => (globalThis as unknown as { runRudderStack(a: unknown): Promise<string> }).runRudderStack(a),
        { ...args, batch },
      );
      // Batches leave after the flush interval; give the page time before closing it.
      await new Promise((r) => setTimeout(r, batch ? 2_000 : 1_000));
      await page.close();
    }
    const events = await exactlyOnce(h, 4 + 10);
    expect(statuses.filter((s) => !/ 200$/.test(s))).toEqual([]);
    expect(new Set(statuses.map((s) => s.split(' ')[0]))).toEqual(
      new Set(['/v1/identify', '/v1/track', '/v1/page', '/v1/batch']),
    );
    expect(events.filter((e) => e.event === 'Clicked')).toHaveLength(10);
    const exposures = (await readAll<Exposure>(h, h.topics.exposures)).map((r) => r.value);
    expect(exposures.map((e) => [e.unitId, e.experimentKey, e.variationId])).toEqual([
      [userId, 'checkout-button', 'green'],
    ]);
  });
});
