// The console end to end in a real headless Chromium (Debian's, driven by playwright-core)
// against a registry this test starts (private database and topics): sign in with a token,
// create an idea, promote it, open the experiment (and see the API's reason when a transition is
// refused), flip a flag's kill switch with its confirmation and see the SDK payload change.
// axe-core checks each page; screenshots go to .stack/screenshots/console/ (git-ignored).
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../setup/browser';
import {
  ADMIN_TOKEN,
  client,
  createTestDatabase,
  deleteTopics,
  startTestRegistry,
  testEnv,
  waitFor,
  type TestDatabase,
} from '../registry/harness';
import type { RunningRegistry } from '../../../services/registry/server';
import { findConsoleDir } from '../../../services/registry/console/plugin';

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

describe('console in a real browser', () => {
  let db: TestDatabase;
  let registry: RunningRegistry & {
    config: { REGISTRY_CHANGES_TOPIC: string; REGISTRY_EXPOSURES_TOPIC: string };
  };
  let browser: Browser;
  let page: Page;
  let aliceToken: string;
  let sdkToken: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!findConsoleDir())
      throw new Error('console/dist is missing: run make build (npm run build -w console)');
    mkdirSync(SHOTS, { recursive: true });
    db = await createTestDatabase();
    registry = await startTestRegistry(testEnv(db));
    const admin = client(registry.url, ADMIN_TOKEN);
    const make = async (name: string, role: string) =>
      (await admin('POST', '/v1/tokens', { name, role, kind: 'person' })).body.token as string;
    aliceToken = await make('alice', 'editor');
    sdkToken = (await admin('POST', '/v1/tokens', { name: 'web-backend', role: 'sdk' })).body.token;
    const flag = await admin('POST', '/v1/flags', {
      key: 'checkout-banner',
      valueType: 'boolean',
      description: 'The banner on the checkout page',
      owner: 'alice',
      environments: { production: { enabled: true, defaultValue: true, offValue: false, rules: [] } },
    });
    expect(flag.status).toBe(201);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
    page.on('pageerror', (e) => pageErrors.push(e.message));
  });
  afterAll(async () => {
    await browser?.close();
    if (registry) {
      await registry.close();
      await deleteTopics([registry.config.REGISTRY_CHANGES_TOPIC, registry.config.REGISTRY_EXPOSURES_TOPIC]);
    }
    await db?.drop();
  });

  it('signs in, creates and promotes an idea, opens the experiment and flips a kill switch', async () => {
    await page.goto(`${registry.url}/console/`);
    await page.getByRole('heading', { name: 'Sign in to the xp console' }).waitFor();
    await expectAccessible(page, 'sign-in');
    await page.screenshot({ path: join(SHOTS, '01-sign-in.png'), fullPage: true });

    // A wrong token: the API's reason is shown.
    await page.getByLabel('Registry API token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').getByText('unknown or revoked API token').waitFor();

    await page.getByLabel('Registry API token').fill(aliceToken);
    await page.keyboard.press('Enter');
    await page.getByText('alice (editor)').waitFor();

    // Ideas: create one with the keyboard-reachable form.
    await page.getByLabel('Key').fill('faster-checkout');
    await page.getByLabel('Title').fill('One-page checkout');
    await page.getByLabel('Expected impact (1–10)').fill('8');
    await page.getByLabel('Confidence (1–10)').fill('6');
    await page.getByLabel('Ease (1–10)').fill('4');
    await page.getByLabel('Link (optional)').fill('https://example.com/checkout-research');
    await page.getByLabel('Hypothesis').fill('A single checkout page raises completed orders');
    await page.getByRole('button', { name: 'Add idea' }).click();
    await page.getByRole('status').getByText('Created idea "faster-checkout" with ICE score 6.').waitFor();
    await page.getByRole('cell', { name: /One-page checkout/ }).waitFor();
    await expectAccessible(page, 'ideas');
    await page.screenshot({ path: join(SHOTS, '02-ideas.png'), fullPage: true });

    // Promote it: a draft experiment in one step.
    await page.getByRole('button', { name: 'Promote faster-checkout to an experiment' }).click();
    await page
      .getByRole('status')
      .getByText('Promoted idea "faster-checkout" to the draft experiment "faster-checkout" (owner alice).')
      .waitFor();
    await page.getByRole('link', { name: 'faster-checkout' }).click();
    await page.getByRole('heading', { name: /One-page checkout/ }).waitFor();
    await page.getByText('A single checkout page raises completed orders').waitFor();
    await page.getByRole('listitem').filter({ hasText: 'created by alice' }).waitFor();
    // Review needs variants and metrics: the API refuses and the console shows why.
    await page.getByRole('button', { name: 'Move to in_review' }).click();
    await waitFor('the refusal', async () =>
      (await page.getByRole('alert').textContent())?.includes('Refused:'),
    );
    expect(await page.getByRole('alert').textContent()).toMatch(/Refused: .*variant/i);
    await page.getByText('No results yet').waitFor();
    await expectAccessible(page, 'experiment');
    await page.screenshot({ path: join(SHOTS, '03-experiment.png'), fullPage: true });

    await page.getByRole('link', { name: 'Experiments' }).click();
    await page.getByRole('heading', { name: 'Experiments' }).waitFor();
    await page.getByRole('row', { name: /One-page checkout.*draft.*alice/ }).waitFor();
    await expectAccessible(page, 'experiments');
    await page.screenshot({ path: join(SHOTS, '04-experiments.png'), fullPage: true });

    // Flags: the kill switch, with a confirmation, changes what SDKs get.
    const payload = async () => {
      const res = await fetch(`${registry.url}/sdk/v1/payload?environment=production`, {
        headers: { authorization: `Bearer ${sdkToken}` },
      });
      const body = (await res.json()) as {
        flags: Record<string, { environments: Record<string, { enabled: boolean }> }>;
      };
      return body.flags['checkout-banner']!.environments.production!.enabled;
    };
    expect(await payload()).toBe(true);
    await page.getByRole('link', { name: 'Flags' }).click();
    await page.getByRole('heading', { name: 'Flags' }).waitFor();
    await page.getByRole('button', { name: 'Kill switch: turn off checkout-banner in production' }).click();
    await page.getByText('Everyone will get its off value at once.').waitFor();
    await waitFor('focus on the confirmation', async () =>
      (await page.locator(':focus').textContent())?.includes('Confirm: turn off'),
    );
    await expectAccessible(page, 'flags (confirmation)');
    await page.screenshot({ path: join(SHOTS, '05-flags-confirm.png'), fullPage: true });
    await page.keyboard.press('Enter'); // the focused confirmation
    await page.getByRole('status').getByText('checkout-banner is now off in production').waitFor();
    await page.getByRole('button', { name: 'Turn on checkout-banner in production' }).waitFor();
    await page.screenshot({ path: join(SHOTS, '06-flags-off.png'), fullPage: true });
    expect(await waitFor('the payload to change', async () => (await payload()) === false)).toBe(true);

    const log = await client(registry.url, ADMIN_TOKEN)(
      'GET',
      '/v1/audit?entityType=flag&key=checkout-banner',
    );
    expect(log.body.entries[0]).toMatchObject({ action: 'disabled:production', actor: 'alice' });
    // No CSP violation or script error on any page.
    expect(pageErrors.filter((e) => !/status of 4\d\d/.test(e))).toEqual([]);
  });
});
