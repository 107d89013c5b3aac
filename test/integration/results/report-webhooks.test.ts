// The registry's side of results, against a real registry and PostgreSQL: summaries recorded by
// the results service's identity, the report as JSON, Markdown and HTML, webhooks delivered to a
// local receiver (signed, retried with backoff, logged), the notable-results events, and
// conclusion freezing the final results in the experiment log.
import type { Server } from 'node:http';
import { buildSnapshot } from '../../../services/results/snapshot';
import { verify } from '../../../services/registry/webhooks/signature';
import {
  closedPort,
  facts,
  startExperiment,
  startReceiver,
  startRegistryForResults,
  waitFor,
  type Received,
  type TestRegistry,
} from './harness';

const SETTINGS = {
  analysis: { sequentialTuning: 5000 },
  multipleExposureThreshold: 0.01,
  underpoweredBelow: 0.8,
};
const T0 = Date.UTC(2026, 5, 1, 12);

describe('results report and webhooks in the registry', () => {
  let r: TestRegistry;
  let receiver: { url: string; received: Received[]; server: Server };
  let slack: { url: string; received: Received[]; server: Server };
  let secret: string;
  let webhookId: number;
  const key = 'checkout';

  beforeAll(async () => {
    r = await startRegistryForResults({
      REGISTRY_WEBHOOK_POLL_MS: '50',
      REGISTRY_WEBHOOK_BACKOFF_MS: '200',
      REGISTRY_WEBHOOK_MAX_ATTEMPTS: '5',
    });
    // The first two attempts fail: the delivery must be retried with backoff and then succeed.
    receiver = await startReceiver(2);
    slack = await startReceiver(0);
  }, 60_000);
  afterAll(async () => {
    await r?.close();
    receiver?.server.close();
    slack?.server.close();
  });

  it('registers webhooks for admins only and shows the secret once', async () => {
    const refused = await r.owner('POST', '/v1/webhooks', { name: 'x', url: receiver.url });
    expect(refused.status).toBe(403);
    const bad = await r.admin('POST', '/v1/webhooks', { name: 'bad', url: 'ftp://example.com/x' });
    expect(bad.status).toBe(400);
    const created = await r.admin('POST', '/v1/webhooks', { name: 'stakeholders', url: receiver.url });
    expect(created.status).toBe(201);
    expect(created.body.secret).toMatch(/^whsec_/);
    secret = created.body.secret;
    webhookId = created.body.id;
    const slackHook = await r.admin('POST', '/v1/webhooks', {
      name: 'slack',
      url: slack.url,
      format: 'slack',
      events: ['experiment.concluded', 'results.srm_warning'],
    });
    expect(slackHook.status).toBe(201);
    const list = await r.admin('GET', '/v1/webhooks');
    expect(list.body.webhooks.map((w: { name: string }) => w.name)).toEqual(['stakeholders', 'slack']);
    expect(JSON.stringify(list.body)).not.toContain(secret);
  });

  it('delivers lifecycle transitions signed, retrying failures with backoff, and logs each delivery', async () => {
    await startExperiment(r, key);
    // in_review, approved, running; the first one needs three attempts.
    const running = await waitFor(
      'the running transition',
      async () =>
        receiver.received.find((x) => x.status === 204 && JSON.parse(x.body).to === 'running') ?? false,
      20_000,
    );
    expect(running.headers['x-xp-event']).toBe('experiment.transitioned');
    expect(JSON.parse(running.body)).toMatchObject({
      event: 'experiment.transitioned',
      experimentKey: key,
      from: 'approved',
      to: 'running',
      actor: 'alice',
    });
    for (const x of receiver.received) {
      expect(
        verify(
          secret,
          {
            signature: x.headers['x-xp-signature'] as string,
            timestamp: x.headers['x-xp-timestamp'] as string,
          },
          x.body,
        ),
      ).toBe(true);
      // A tampered body does not verify.
      expect(
        verify(
          secret,
          {
            signature: x.headers['x-xp-signature'] as string,
            timestamp: x.headers['x-xp-timestamp'] as string,
          },
          x.body.replace('experiment', 'Experiment'),
        ),
      ).toBe(false);
    }
    // Each delivery: two failures, then success, under one delivery id, spaced by backoff.
    const first = receiver.received.filter((x) => JSON.parse(x.body).to === 'in_review');
    expect(first.map((x) => x.status)).toEqual([500, 500, 204]);
    expect(new Set(first.map((x) => x.headers['x-xp-delivery'])).size).toBe(1);
    expect(first[1]!.at - first[0]!.at).toBeGreaterThanOrEqual(200);
    expect(first[2]!.at - first[1]!.at).toBeGreaterThanOrEqual(400);

    const log = await r.admin('GET', `/v1/webhooks/${webhookId}/deliveries`);
    expect(log.status).toBe(200);
    const entry = log.body.deliveries.find(
      (d: { id: number }) => String(d.id) === first[0]!.headers['x-xp-delivery'],
    );
    expect(entry).toMatchObject({ status: 'delivered', attempts: 3, lastStatusCode: 204, lastError: null });
  }, 60_000);

  it('records summaries from the results service and announces what starts to hold', async () => {
    const quiet = buildSnapshot(facts(key), SETTINGS, T0).summary;
    const put = await r.service('PUT', `/v1/experiments/${key}/results`, quiet);
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ recorded: true, events: [] });

    // The key in the body must be the one in the path; readers cannot record.
    const mismatch = await r.service('PUT', `/v1/experiments/other/results`, quiet);
    expect(mismatch.status).toBe(400);
    const viewer = (await r.admin('POST', '/v1/tokens', { name: 'carol', role: 'viewer' })).body.token;
    const asViewer = await fetch(`${r.url}/v1/experiments/${key}/results`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${viewer}`, 'content-type': 'application/json' },
      body: JSON.stringify(quiet),
    });
    expect(asViewer.status).toBe(403);

    // The treatment now wins clearly and hurts the retention guardrail.
    const moved = buildSnapshot(
      facts(key, { converted: [100, 220], retained: [800, 700] }),
      SETTINGS,
      T0 + 60_000,
    ).summary;
    const second = await r.service('PUT', `/v1/experiments/${key}/results`, moved);
    expect(second.body.events.sort()).toEqual(['results.guardrail_failed', 'results.significant']);
    // The same again: nothing new to announce. An older snapshot is ignored.
    const again = buildSnapshot(
      facts(key, { converted: [100, 221], retained: [800, 699] }),
      SETTINGS,
      T0 + 120_000,
    ).summary;
    expect((await r.service('PUT', `/v1/experiments/${key}/results`, again)).body.events).toEqual([]);
    expect((await r.service('PUT', `/v1/experiments/${key}/results`, quiet)).body).toMatchObject({
      recorded: false,
    });

    const srm = buildSnapshot(
      facts(key, { units: [1000, 1200], converted: [100, 264], retained: [800, 840] }),
      SETTINGS,
      T0 + 180_000,
    ).summary;
    expect((await r.service('PUT', `/v1/experiments/${key}/results`, srm)).body.events).toEqual([
      'results.srm_warning',
    ]);

    const events = await waitFor('the results events', async () => {
      const got = receiver.received
        .filter((x) => x.status === 204)
        .map((x) => JSON.parse(x.body).event as string);
      return ['results.significant', 'results.guardrail_failed', 'results.srm_warning'].every((e) =>
        got.includes(e),
      )
        ? got
        : false;
    });
    expect(events.filter((e) => e.startsWith('results.')).length).toBe(3);
    const significant = JSON.parse(
      receiver.received.find((x) => x.body.includes('results.significant'))!.body,
    );
    expect(significant).toMatchObject({ metric: 'Order Completed', variationId: 'treatment' });
    expect(significant.lift).toBeGreaterThan(0.5);

    // The Slack-shaped webhook gets only its event, as a sentence.
    const slackSrm = await waitFor('the slack message', async () => slack.received[0] ?? false);
    const message = JSON.parse(slackSrm.body);
    expect(message.text).toMatch(/^Sample-ratio mismatch in checkout \(p = /);
    expect(message.blocks[0]).toMatchObject({ type: 'section', text: { type: 'mrkdwn' } });
  }, 60_000);

  it('serves the report as JSON, Markdown and HTML', async () => {
    const json = await r.owner('GET', `/v1/experiments/${key}/results`);
    expect(json.status).toBe(200);
    expect(json.body.source).toBe('latest');
    expect(json.body.results.decision.verdict).toBe('invalid');
    expect(json.body.results.health.srm.warning).toBe(true);
    expect(json.body.log.map((e: { action: string }) => e.action)).toContain('results:srm_warning');

    const md = await r.owner('GET', `/v1/experiments/${key}/results`, undefined, { accept: 'text/markdown' });
    expect(md.headers.get('content-type')).toMatch(/^text\/markdown/);
    expect(md.body).toContain('# Results: Checkout checkout');
    expect(md.body).toContain('> **Do not trust these results: the traffic split does not match');
    expect(md.body).toMatch(/Sample-ratio mismatch: \*\*warning\*\*/);
    expect(md.body).toMatch(
      /\| retained \| guardrail \| treatment \| 1200 \| .* \| \*\*guardrail fails\*\* \|/,
    );
    expect(md.body).toContain('## History'); // the brief and its log follow

    const html = await r.owner('GET', `/v1/experiments/${key}/results?format=html`);
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    expect(html.body).toContain('<blockquote><p><strong>Do not trust these results');
    expect(html.body).toContain('<table>');
    expect((await r.owner('GET', `/v1/experiments/${key}/results?format=pdf`)).status).toBe(400);
  });

  it('freezes the final results in the log at conclusion and notifies with the learnings', async () => {
    const transition = (to: string, extra: object = {}) =>
      r.owner('POST', `/v1/experiments/${key}/transitions`, { to, ...extra });
    expect((await transition('stopped')).status).toBe(200);
    const concluded = await transition('concluded', {
      decision: 'rollback',
      summary: 'The split broke on mobile; fix the SDK and rerun.',
    });
    expect(concluded.status).toBe(200);

    // A later refresh does not change what the report shows for a concluded experiment.
    const later = buildSnapshot(facts(key), SETTINGS, T0 + 600_000).summary;
    await r.service('PUT', `/v1/experiments/${key}/results`, later);
    const report = await r.owner('GET', `/v1/experiments/${key}/results`);
    expect(report.body.source).toBe('final');
    expect(report.body.results.health.srm.warning).toBe(true);
    expect(report.body.experiment).toMatchObject({
      decision: 'rollback',
      learnings: 'The split broke on mobile; fix the SDK and rerun.',
    });
    const frozen = report.body.log.find((e: { action: string }) => e.action === 'results:final');
    expect(frozen).toBeDefined();

    const md = await r.owner('GET', `/v1/experiments/${key}/results?format=md`);
    expect(md.body).toContain('(final, frozen at conclusion)');
    expect(md.body).toContain('The split broke on mobile; fix the SDK and rerun.');

    const slackConcluded = await waitFor(
      'the concluded message',
      async () => slack.received.find((x) => JSON.parse(x.body).text.includes('concluded')) ?? false,
    );
    expect(JSON.parse(slackConcluded.body).text).toContain('Learnings: The split broke on mobile');
    const concludedJson = await waitFor(
      'the concluded event',
      async () => receiver.received.find((x) => x.headers['x-xp-event'] === 'experiment.concluded') ?? false,
    );
    expect(JSON.parse(concludedJson.body).results.decision.verdict).toBe('invalid');
  }, 60_000);

  it('gives up after the configured attempts and says why in the log', async () => {
    const port = await closedPort();
    const dead = await r.admin('POST', '/v1/webhooks', {
      name: 'dead',
      url: `http://127.0.0.1:${port}/nothing`,
    });
    const ping = await r.admin('POST', `/v1/webhooks/${dead.body.id}/ping`);
    expect(ping.status).toBe(202);
    const failed = await waitFor(
      'the failed delivery',
      async () => {
        const log = await r.admin('GET', `/v1/webhooks/${dead.body.id}/deliveries?status=failed`);
        return log.body.deliveries[0] ?? false;
      },
      30_000,
    );
    expect(failed).toMatchObject({ event: 'ping', status: 'failed', attempts: 5, lastStatusCode: null });
    expect(failed.lastError).toMatch(/ECONNREFUSED|fetch failed/);
  }, 40_000);
});
