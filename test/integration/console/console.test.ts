// The console end to end in a real headless Chromium (Debian's, driven by playwright-core)
// against the running stack (`make up`): registry, collector, enricher, sink, BigQuery and the
// results service. One owner (alice) and one reviewer (bob), with keys unique to this run:
// sign in; create an idea and promote it; edit the experiment in the browser (a refused edit
// names its field); request review; approve as bob (the owner cannot: the page says why);
// start; send traffic through the collector; refresh the results until every exposed unit is
// counted and see the effect over time; the health badge on the list; the report as a PDF;
// flags with rules in words, the flag's history and the kill switch (the SDK payload
// changes); stop and conclude with learnings. axe-core checks every page (no serious or
// critical violation); screenshots go to .stack/screenshots/console/NN-name.png (git-ignored).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { evaluate, type Flag } from '@xp-platform/evaluation';
import { buildWorkload, type TrackCall } from '../../../scripts/demo/workload';
import { launchChromium } from '../setup/browser';
import { requireServices, services } from '../setup/stack';

const SHOTS = join(__dirname, '..', '..', '..', '.stack', 'screenshots', 'console');
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** axe-core on the current page: no serious or critical violation. */
async function expectAccessible(page: Page, name: string): Promise<void> {
  // page.evaluate runs through the DevTools protocol: the page's CSP does not apply to it.
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: AxeViolation[] }> } }).axe;
    return (await axe.run()).violations;
  });
  const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (serious.length > 0) {
    throw new Error(
      `${name}: ${serious.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`).join('\n')}`,
    );
  }
}

async function until<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 15_000,
  everyMs = 250,
) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A JSON client for the registry that throws with the API's message. */
function registry(tokenValue: string) {
  return async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${services.registry}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${tokenValue}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return (text ? JSON.parse(text) : null) as any;
  };
}

/** Sends track calls through the collector's /v1/batch, stamped now; returns how many it accepted. */
async function sendTraffic(calls: TrackCall[]): Promise<number> {
  const auth = `Basic ${Buffer.from(`${services.writeKey}:`).toString('base64')}`;
  let accepted = 0;
  for (let i = 0; i < calls.length; i += 200) {
    const batch = calls.slice(i, i + 200);
    const now = new Date().toISOString();
    for (const c of batch) c.timestamp ??= now;
    const res = await fetch(`${services.collector}/v1/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: auth },
      body: JSON.stringify({ batch, sentAt: new Date().toISOString() }),
    });
    const body = (await res.json()) as { accepted?: number };
    if (!res.ok) throw new Error(`collector answered ${res.status}: ${JSON.stringify(body)}`);
    accepted += body.accepted ?? 0;
  }
  return accepted;
}

describe('console in a real browser, on the running stack', () => {
  const run = `console-${Date.now().toString(36)}`;
  const experimentKey = `${run}-checkout`;
  const buttonFlag = `${run}-button`;
  const bannerFlag = `${run}-banner`;
  let browser: Browser;
  let page: Page;
  let aliceToken: string;
  let bobToken: string;
  let sdkToken: string;
  const pageErrors: string[] = [];
  const timings: Record<string, number> = {};
  const started = Date.now();
  const mark = (step: string) => (timings[step] = Math.round((Date.now() - started) / 100) / 10);

  const shot = async (name: string) => {
    await expectAccessible(page, name);
    await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  };
  const status = (text: string | RegExp) => page.getByRole('status').getByText(text).waitFor();
  const signIn = async (tokenValue: string, who: string) => {
    await page.getByLabel('Registry API token').fill(tokenValue);
    await page.keyboard.press('Enter');
    await page.getByText(`${who} (editor)`).waitFor();
  };
  const signOut = async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to the xp console' }).waitFor();
  };
  const openExperiment = async () => {
    await page.goto(`${services.registry}/console/#/experiments/${experimentKey}`);
    await page.reload(); // fresh data even when the address did not change
    await page.getByRole('heading', { name: /One-page checkout/ }).waitFor();
  };
  const payload = async () => {
    const res = await fetch(`${services.registry}/sdk/v1/payload?environment=production`, {
      headers: { authorization: `Bearer ${sdkToken}` },
    });
    return (await res.json()) as { flags: Record<string, Flag> };
  };

  beforeAll(async () => {
    await requireServices('registry', 'collector', 'enricher', 'sink', 'results');
    mkdirSync(SHOTS, { recursive: true });
    const admin = registry(services.adminToken);
    const person = async (name: string) =>
      (await admin('POST', '/v1/tokens', { name, role: 'editor', kind: 'person' })).token as string;
    aliceToken = await person(`${run}-alice`);
    bobToken = await person(`${run}-bob`);
    sdkToken = (await admin('POST', '/v1/tokens', { name: `${run}-sdk`, role: 'sdk' })).token;
    await admin('POST', '/v1/flags', {
      key: buttonFlag,
      type: 'experiment',
      valueType: 'string',
      description: 'Colour of the checkout button',
      owner: `${run}-alice`,
      environments: { production: { enabled: true, defaultValue: 'blue', offValue: 'blue', rules: [] } },
    });
    await admin('POST', '/v1/flags', {
      key: bannerFlag,
      valueType: 'string',
      description: 'The banner on the checkout page',
      owner: `${run}-alice`,
      environments: {
        production: {
          enabled: true,
          defaultValue: 'none',
          offValue: 'none',
          rules: [
            {
              id: 'eu',
              conditions: [{ attribute: 'country', operator: 'in', value: ['DE', 'FR'] }],
              value: 'green',
            },
          ],
        },
      },
    });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
    page.on('pageerror', (e) => pageErrors.push(e.message));
  });
  afterAll(async () => {
    await browser?.close();
    // The experiment and flags stay in the shared registry (keys unique to the run), like demo runs.
  });

  it('takes an idea to a concluded experiment with a second reviewer, live results, the report PDF and flags', async () => {
    // Sign-in, and the API's reason for a wrong token.
    await page.goto(`${services.registry}/console/`);
    await page.getByRole('heading', { name: 'Sign in to the xp console' }).waitFor();
    await shot('01-sign-in');
    await page.getByLabel('Registry API token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').getByText('unknown or revoked API token').waitFor();
    await signIn(aliceToken, `${run}-alice`);

    // Ideas: create one with the form, then promote it to a draft experiment.
    await page.getByLabel('Key').fill(experimentKey);
    await page.getByLabel('Title').fill('One-page checkout');
    await page.getByLabel('Expected impact (1–10)').fill('8');
    await page.getByLabel('Confidence (1–10)').fill('6');
    await page.getByLabel('Ease (1–10)').fill('4');
    await page.getByLabel('Link (optional)').fill('https://example.com/checkout-research');
    await page.getByLabel('Hypothesis').fill('A single checkout page raises completed orders');
    await page.getByRole('button', { name: 'Add idea' }).click();
    await status(`Created idea "${experimentKey}" with ICE score 6.`);
    await shot('02-ideas');
    await page.getByRole('button', { name: `Promote ${experimentKey} to an experiment` }).click();
    await status(
      `Promoted idea "${experimentKey}" to the draft experiment "${experimentKey}" (owner ${run}-alice).`,
    );
    await page.getByRole('link', { name: experimentKey }).click();
    await page.getByRole('heading', { name: /One-page checkout/ }).waitFor();
    // The registry says why review is not open yet (no copy of the lifecycle in the console).
    await page
      .getByRole('listitem')
      .filter({
        hasText:
          'in_review is blocked: at least one primary metric is required; at least two variants are required',
      })
      .waitFor();
    await page.getByRole('button', { name: 'Move to archived' }).waitFor();
    expect(await page.getByRole('button', { name: 'Move to in_review' }).count()).toBe(0);
    await shot('03-experiment-draft');
    mark('promoted');

    // Edit in the browser: a refused edit shows the API's reason and marks the field.
    await page.getByRole('button', { name: 'Edit the design' }).click();
    await page.getByLabel('Flag key').fill('not a key!');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page
      .getByRole('alert')
      .getByText(/Not saved: .*flagKey/)
      .waitFor();
    expect(await page.getByLabel('Flag key').getAttribute('aria-invalid')).toBe('true');
    await shot('04-edit-refused');
    await page.getByLabel('Flag key').fill(buttonFlag);
    await page
      .getByLabel('Hypothesis', { exact: true })
      .fill('A green one-page checkout raises completed orders');
    for (const [i, v] of ['blue', 'green'].entries()) {
      await page.getByRole('button', { name: 'Add a variant' }).click();
      await page.getByLabel(`Variant ${i + 1} key`).fill(v);
      await page.getByLabel(`Variant ${i + 1} weight`).fill('50');
      await page.getByLabel(`Variant ${i + 1} value`).fill(v);
    }
    await page.getByRole('button', { name: 'Add a metric' }).click();
    await page.getByLabel('Metric 1 role').selectOption('primary');
    await page.getByLabel('Metric 1 name').fill('orders');
    await page.getByLabel('Metric 1 event').fill('Order Completed');
    await page.getByRole('button', { name: 'Add a metric' }).click();
    await page.getByLabel('Metric 2 role').selectOption('secondary');
    await page.getByLabel('Metric 2 name').fill('revenue');
    await page.getByLabel('Metric 2 event').fill('Order Completed');
    await page.getByLabel('Metric 2 aggregation').selectOption('sum');
    await page.getByRole('button', { name: 'Add a metric' }).click();
    await page.getByLabel('Metric 3 role').selectOption('guardrail');
    await page.getByLabel('Metric 3 name').fill('checkout errors');
    await page.getByLabel('Metric 3 event').fill('Checkout Error');
    await page.getByLabel('Metric 3 aggregation').selectOption('count');
    await page.getByLabel('Metric 3: lower is better').check();
    await shot('05-edit');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await status(new RegExp(`Saved ${experimentKey}: now version \\d+`));
    await page.getByText('orders (primary, conversion of Order Completed)').waitFor();
    const edited = await registry(aliceToken)('GET', `/v1/experiments/${experimentKey}`);
    expect(edited).toMatchObject({
      flagKey: buttonFlag,
      hypothesis: 'A green one-page checkout raises completed orders',
      variants: [
        { key: 'blue', weight: 50, value: 'blue' },
        { key: 'green', weight: 50, value: 'green' },
      ],
      primaryMetrics: [{ event: 'Order Completed', aggregation: 'conversion', name: 'orders' }],
      secondaryMetrics: [{ event: 'Order Completed', aggregation: 'sum', name: 'revenue' }],
      guardrailMetrics: [
        { event: 'Checkout Error', aggregation: 'count', name: 'checkout errors', inverse: true },
      ],
    });

    // Request review; the owner may not approve, and the page says so.
    await page.getByRole('button', { name: 'Move to in_review' }).click();
    await status(`${experimentKey} moved from draft to in_review`);
    await page
      .getByRole('listitem')
      .filter({
        hasText: `approved is blocked: approval must come from someone other than the owner (${run}-alice)`,
      })
      .waitFor();
    await shot('06-in-review-owner');
    mark('review requested');

    // Bob reviews and approves.
    await signOut();
    await signIn(bobToken, `${run}-bob`);
    await openExperiment();
    await page.getByLabel('Comment (optional)').fill('Design and metrics look right.');
    await page.getByRole('button', { name: 'Move to approved' }).click();
    await status(`${experimentKey} moved from in_review to approved`);
    await page.getByText(`approved by ${run}-bob`).first().waitFor();
    await shot('07-approved-by-reviewer');

    // Alice starts it.
    await signOut();
    await signIn(aliceToken, `${run}-alice`);
    await openExperiment();
    await page.getByRole('button', { name: 'Move to running' }).click();
    await status(`${experimentKey} moved from approved to running`);
    mark('running');

    // Traffic through the collector, assigned as an SDK would from the registry's payload.
    const flag = await until('the running split in the SDK payload', async () => {
      const f = (await payload()).flags[buttonFlag];
      return f?.environments.production?.rules.some((r) => r.id === `exp:${experimentKey}`) && f;
    });
    const workload = buildWorkload(
      {
        users: 1000,
        run,
        experimentKey,
        conversionRates: { blue: 0.1, green: 0.18 },
        duplicateShare: 0,
        seed: 7,
      },
      (userId) => evaluate(flag, { userId }, { environment: 'production' }).variant ?? null,
    );
    // Two waves of traffic, each counted in full before the next: the effect over time then has
    // (at least) two snapshots that differ.
    const variantOf = new Map(
      workload.exposures.map((c) => [c.userId, String(c.properties.variation_id)] as const),
    );
    const half = Math.floor(workload.exposures.length / 2);
    const waves = [workload.exposures.slice(0, half), workload.exposures.slice(half)].map((exposures) => {
      const users = new Set(exposures.map((c) => c.userId));
      return [...exposures, ...workload.conversions.filter((c) => users.has(c.userId))];
    });
    const expected = { blue: { units: 0, orders: 0 }, green: { units: 0, orders: 0 } } as Record<
      string,
      { units: number; orders: number }
    >;
    // Complete: every exposed unit and every order sent so far counted, per variant.
    const complete = async () => {
      const { results } = await registry(aliceToken)('GET', `/v1/experiments/${experimentKey}/results`);
      const orders = results?.metrics.find((m: { id: string }) => m.id === 'orders');
      return Object.entries(expected).every(([v, want]) => {
        const counted = orders?.variants.find((x: { variationId: string }) => x.variationId === v);
        return counted?.units === want.units && Math.round(counted.mean * counted.units) === want.orders;
      });
    };
    for (const [n, wave] of waves.entries()) {
      for (const c of wave) {
        const e = expected[variantOf.get(c.userId)!]!;
        if (c.event === 'Order Completed') e.orders++;
        else e.units++;
      }
      expect(await sendTraffic(wave)).toBe(wave.length);
      mark(`wave ${n + 1} sent`);
      // Refresh on demand until the wave is counted: collector → enricher → sink → BigQuery →
      // results service → registry (the service's own schedule refreshes every 30 s too).
      await until(
        `results counting wave ${n + 1}: ${JSON.stringify(expected)}`,
        async () => {
          await page.getByRole('button', { name: 'Refresh results now' }).click();
          await page.getByRole('button', { name: 'Refresh results now' }).waitFor({ timeout: 60_000 });
          return complete();
        },
        90_000,
        2_000,
      );
      mark(`wave ${n + 1} counted`);
    }
    await status(/Results refreshed: snapshot/);
    // The snapshots reach experiment_results through Kafka and the sink.
    await until(
      'two different lifts in experiment_results',
      async () => {
        const h = await registry(aliceToken)('GET', `/v1/experiments/${experimentKey}/results/history`);
        const orders = h.series.find((x: { metric: string }) => x.metric === 'orders');
        const lifts = new Set((orders?.points ?? []).map((p: { lift: number | null }) => p.lift));
        lifts.delete(null);
        return lifts.size >= 2;
      },
      60_000,
      1_000,
    );
    await openExperiment();
    await page.getByRole('img', { name: /Cumulative lift of orders \(green vs blue\)/ }).waitFor();
    await page
      .getByRole('row', { name: /orders.*green/ })
      .first()
      .waitFor();
    await page.getByText("The chart's numbers as a table").first().click();
    await shot('08-results');
    mark('results shown');

    // The list shows the experiment's health from its latest summary.
    await page.getByRole('link', { name: 'Experiments' }).click();
    await page.getByLabel('Filter (key, name, owner or status)').fill(run);
    const row = page.getByRole('row', { name: new RegExp(`One-page checkout.*running`) });
    await row.waitFor();
    const health = await row.locator('td').nth(2).textContent();
    expect(health).toMatch(/healthy|underpowered|SRM failing|multiple exposures|guardrail harmed/);
    await shot('09-experiments');

    // Flags: rules in words, the flag's history, and the kill switch with its confirmation.
    await page.getByRole('link', { name: 'Flags' }).click();
    await page.getByLabel('Filter (key, description or owner)').fill(run);
    await page
      .getByText(`everyone → 50/50 split blue/green by userId; experiment ${experimentKey}, phase 0`)
      .waitFor();
    await page.getByText("if country is one of DE, FR → 'green'").waitFor();
    await page.getByRole('button', { name: `Show the history of ${buttonFlag}` }).click();
    await page.getByRole('cell', { name: `experiment:${experimentKey}:started` }).waitFor();
    await shot('10-flags');
    expect((await payload()).flags[bannerFlag]!.environments.production!.enabled).toBe(true);
    await page.getByRole('button', { name: `Kill switch: turn off ${bannerFlag} in production` }).click();
    await page.getByText('Everyone will get its off value at once.').waitFor();
    await until('focus on the confirmation', async () =>
      (await page.locator(':focus').textContent())?.includes('Confirm: turn off'),
    );
    await shot('11-flags-confirm');
    await page.keyboard.press('Enter'); // the focused confirmation
    await status(`${bannerFlag} is now off in production`);
    await page.getByRole('button', { name: `Turn on ${bannerFlag} in production` }).waitFor();
    await page.getByText("off: everyone gets 'none'").waitFor();
    await until(
      'the payload to change',
      async () => !(await payload()).flags[bannerFlag]!.environments.production!.enabled,
    );
    await shot('12-flags-off');
    mark('kill switch');

    // Stop, then conclude with learnings.
    await openExperiment();
    await page.getByRole('button', { name: 'Move to stopped' }).click();
    await status(`${experimentKey} moved from running to stopped`);
    await page.getByLabel('Learnings (summary)').fill('Green one-page checkout raised orders; ship it.');
    await page.getByLabel('Decision').selectOption('ship');
    await page.getByRole('button', { name: 'Move to concluded' }).click();
    await status(`${experimentKey} moved from stopped to concluded`);
    await page.getByRole('listitem').filter({ hasText: 'transitioned:concluded' }).first().waitFor();
    await shot('13-concluded');

    // The report for stakeholders, and its PDF (print stylesheet: no navigation, no buttons).
    await page.getByRole('link', { name: 'Report for stakeholders (print or PDF)' }).click();
    await page.getByRole('heading', { name: /One-page checkout.*results report/ }).waitFor();
    await page.getByText('Green one-page checkout raised orders; ship it.').waitFor();
    await page.getByRole('img', { name: /Cumulative lift of orders/ }).waitFor();
    await shot('14-report');
    const pdf = await page.pdf({ format: 'A4', printBackground: true });
    writeFileSync(join(SHOTS, '14-report.pdf'), pdf);
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdf.length).toBeGreaterThan(5_000);
    // Chromium writes the document title (the experiment's name) into the PDF's metadata.
    expect(pdf.toString('latin1')).toContain('/Title (One-page checkout: results report)');
    mark('done');

    // No CSP violation or script error on any page (4xx answers are shown on the page itself).
    expect(pageErrors.filter((e) => !/status of 4\d\d/.test(e))).toEqual([]);
    console.log(`console flow timings (s since start): ${JSON.stringify(timings)}`);
  }, 240_000);
});
