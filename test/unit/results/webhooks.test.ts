// The registry's pure parts of notifications: signatures, backoff, payload shapes, and which
// results events a new summary causes.
import { createHmac } from 'node:crypto';
import { resultsEvents } from '../../../services/registry/results/events';
import { backoffMs } from '../../../services/registry/webhooks/backoff';
import { eventText, webhookBody } from '../../../services/registry/webhooks/payload';
import { sign, verify } from '../../../services/registry/webhooks/signature';
import { buildSnapshot } from '../../../services/results/snapshot';
import type { ExperimentFacts } from '../../../services/results/facts';

describe('webhook signatures', () => {
  const body = '{"event":"ping"}';
  it('is HMAC-SHA256 of "<timestamp>.<body>", as a receiver recomputes it', () => {
    expect(sign('whsec_test', 1_700_000_000, body)).toBe(
      'sha256=' + createHmac('sha256', 'whsec_test').update(`1700000000.${body}`).digest('hex'),
    );
    const headers = { signature: sign('whsec_test', 1_700_000_000, body), timestamp: '1700000000' };
    expect(verify('whsec_test', headers, body, 1_700_000_010)).toBe(true);
  });
  it('refuses another secret, a changed body, a changed time and an old timestamp', () => {
    const headers = { signature: sign('s', 1000, body), timestamp: '1000' };
    expect(verify('other', headers, body, 1000)).toBe(false);
    expect(verify('s', headers, body + ' ', 1000)).toBe(false);
    expect(verify('s', { ...headers, timestamp: '1001' }, body, 1001)).toBe(false);
    expect(verify('s', headers, body, 1000 + 301)).toBe(false);
    expect(verify('s', { timestamp: '1000' }, body, 1000)).toBe(false);
  });
});

describe('webhook backoff', () => {
  it('doubles from the base up to the cap, with at most 10% jitter', () => {
    expect([1, 2, 3, 4, 10].map((n) => backoffMs(n, 1000, 30_000, () => 0))).toEqual([
      1000, 2000, 4000, 8000, 30_000,
    ]);
    expect(backoffMs(2, 1000, 30_000, () => 1)).toBe(2200);
  });
});

describe('webhook payloads', () => {
  const p = { experimentKey: 'checkout', from: 'approved', to: 'running', actor: 'alice' };
  it('sends our JSON event as is', () => {
    expect(JSON.parse(webhookBody('json', 'experiment.transitioned', p))).toEqual({
      event: 'experiment.transitioned',
      ...p,
    });
  });
  it('shapes a Slack message with text and blocks, escaping Slack markup', () => {
    const slack = JSON.parse(webhookBody('slack', 'experiment.transitioned', { ...p, actor: '<!channel>' }));
    expect(slack.text).toBe('Experiment checkout moved from approved to running (by &lt;!channel&gt;).');
    expect(slack.blocks[0]).toEqual({ type: 'section', text: { type: 'mrkdwn', text: slack.text } });
  });
  it('words significance with the lift and its interval', () => {
    expect(
      eventText('results.significant', {
        experimentKey: 'checkout',
        metric: 'orders',
        variationId: 'green',
        lift: 0.22,
        liftCiLower: 0.037,
        liftCiUpper: 0.403,
      }),
    ).toBe('checkout: green is significant on orders (+22.0%, interval +3.7% to +40.3%).');
  });
});

describe('results events', () => {
  const facts = (units: number[], converted: number[], retained: number[]): ExperimentFacts => ({
    experimentKey: 'checkout',
    phase: 0,
    cuped: false,
    variants: ['a', 'b'].map((key, i) => ({ key, weight: 1, units: units[i]!, excludedUnits: 0 })),
    metrics: [
      {
        id: 'orders',
        aggregation: 'conversion',
        role: 'primary',
        inverse: false,
        sums: units.map((n, i) => ({ n, sum: converted[i]!, sumSquares: converted[i]! })),
        unitsInProgress: [0, 0],
        convertedUnits: converted,
      },
      {
        id: 'retained',
        aggregation: 'conversion',
        role: 'guardrail',
        inverse: false,
        sums: units.map((n, i) => ({ n, sum: retained[i]!, sumSquares: retained[i]! })),
        unitsInProgress: [0, 0],
        convertedUnits: retained,
      },
    ],
  });
  const summary = (f: ExperimentFacts, sequential = true, t = 0) =>
    buildSnapshot(
      f,
      {
        analysis: sequential ? { sequentialTuning: 2000 } : {},
        multipleExposureThreshold: 0.01,
        underpoweredBelow: 0.8,
      },
      t,
    ).summary;
  const quiet = summary(facts([1000, 1000], [100, 102], [800, 800]));
  const loud = summary(facts([1000, 1000], [100, 220], [800, 700]), true, 1);

  it('fires when a condition starts to hold, not while it keeps holding', () => {
    expect(resultsEvents(null, quiet)).toEqual([]);
    expect(resultsEvents(quiet, loud).map((e) => e.event)).toEqual([
      'results.significant',
      'results.guardrail_failed',
    ]);
    expect(resultsEvents(loud, loud)).toEqual([]);
  });
  it('announces significance for sequential tests only (fixed-horizon peeking is not evidence)', () => {
    const fixed = summary(facts([1000, 1000], [100, 220], [800, 800]), false);
    expect(resultsEvents(quiet, fixed).map((e) => e.event)).toEqual([]);
  });
  it('announces a sample-ratio mismatch once, and starts over in a new phase', () => {
    const srm = summary(facts([1000, 1300], [100, 130], [800, 1040]));
    expect(resultsEvents(quiet, srm).map((e) => e.event)).toEqual(['results.srm_warning']);
    expect(resultsEvents(srm, srm)).toEqual([]);
    expect(resultsEvents({ ...srm, phase: 1 }, srm).map((e) => e.event)).toEqual(['results.srm_warning']);
  });
});
