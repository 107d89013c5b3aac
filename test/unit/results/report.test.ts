// The report document rendered as Markdown and as HTML: the decision first, metrics with
// intervals, health checks, learnings; user text never becomes markup.
import { markdownToHtml, htmlPage } from '../../../services/registry/results/markdown-html';
import { renderReportMarkdown, reportDocument } from '../../../services/registry/results/report';
import { reportFormat } from '../../../services/registry/results/routes';
import type { Experiment } from '../../../services/registry/experiments/model';
import { buildSnapshot } from '../../../services/results/snapshot';

const experiment = {
  key: 'checkout',
  name: 'Green <button> | test',
  status: 'concluded',
  owner: 'alice',
  type: 'ab',
  hypothesis: 'Green raises orders',
  description: '',
  tags: [],
  flagKey: 'btn',
  environment: 'production',
  primaryMetrics: [{ event: 'Order Completed', aggregation: 'conversion', name: 'orders' }],
  secondaryMetrics: [],
  guardrailMetrics: [],
  variants: [
    { key: 'blue', weight: 50, value: 'blue' },
    { key: 'green', weight: 50, value: 'green' },
  ],
  trafficCoverage: 1,
  targeting: { conditions: [], segments: [] },
  hashAttribute: 'userId',
  seed: 'checkout',
  startAt: null,
  endAt: null,
  attributionWindowHours: 72,
  layer: null,
  approval: null,
  phases: [],
  decision: 'ship',
  summary: 'Ship green. <script>alert(1)</script>',
} as unknown as Experiment;

const summary = buildSnapshot(
  {
    experimentKey: 'checkout',
    phase: 0,
    cuped: false,
    variants: [
      { key: 'blue', weight: 50, units: 2505, excludedUnits: 0 },
      { key: 'green', weight: 50, units: 2495, excludedUnits: 0 },
    ],
    metrics: [
      {
        id: 'orders',
        aggregation: 'conversion',
        role: 'primary',
        inverse: false,
        sums: [
          { n: 2505, sum: 274, sumSquares: 274 },
          { n: 2495, sum: 333, sumSquares: 333 },
        ],
        unitsInProgress: [0, 0],
        convertedUnits: [274, 333],
      },
    ],
  },
  { analysis: {}, multipleExposureThreshold: 0.01, underpoweredBelow: 0.8 },
  Date.UTC(2026, 5, 1),
).summary;

describe('results report', () => {
  const doc = reportDocument(experiment, summary, null, []);
  const md = renderReportMarkdown(doc, experiment);

  it('leads with the decision, then health, metrics with interval and chance to win, learnings, brief', () => {
    expect(md.indexOf('> **green raises orders by 22% (95% CI +4% to +40%); ship it.**')).toBeGreaterThan(0);
    expect(md).toMatch(/- Sample-ratio mismatch: ok \(p = 0\.8\d{3}/);
    expect(md).toContain('- Multiple exposures: ok (0 units');
    expect(md).toMatch(/- Power: \d+\.\d% for the observed effect/);
    expect(md).toMatch(
      /\| orders \| primary \| green \| 2495 \| 0\.1335 \| \+22\.0% \| \+3\.\d% to \+40\.\d% \| 0\.01\d{2} \| 99\.1% \| \*\*significant\*\* \|/,
    );
    expect(md).toContain('**Decision: ship**');
    expect(md).toContain('## History');
    const order = ['## Health checks', '## Metrics', '## Learnings', '## Purpose'].map((h) => md.indexOf(h));
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it('says so when there are no results yet', () => {
    const empty = renderReportMarkdown(reportDocument(experiment, null, null, []), experiment);
    expect(empty).toContain('_No results yet');
    expect(reportDocument(experiment, null, null, []).source).toBe('none');
    expect(reportDocument(experiment, summary, summary, []).source).toBe('final');
  });

  it('renders HTML with every piece of user text escaped', () => {
    const html = htmlPage('Results', md);
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('<h1>Results: Green &lt;button&gt; | test (<code>checkout</code>)</h1>');
    expect(html).toContain('<blockquote><p><strong>green raises orders by 22%');
    expect(html).toMatch(/<table>\n<thead><tr><th>metric<\/th>/);
  });

  it('renders the Markdown subset', () => {
    expect(
      markdownToHtml('# T\n\n- a **b**\n- `c`\n\n| x | y \\| z |\n| --- | --- |\n| 1 | 2 |\n\n_none_'),
    ).toBe(
      [
        '<h1>T</h1>',
        '<ul>',
        '<li>a <strong>b</strong></li>',
        '<li><code>c</code></li>',
        '</ul>',
        '<table>',
        '<thead><tr><th>x</th><th>y | z</th></tr></thead>',
        '<tbody><tr><td>1</td><td>2</td></tr></tbody>',
        '</table>',
        '<p><em>none</em></p>',
      ].join('\n'),
    );
  });

  it('picks the format from ?format=, then Accept, JSON by default', () => {
    expect(reportFormat('md', 'application/json')).toBe('markdown');
    expect(reportFormat(undefined, 'text/html,application/xhtml+xml')).toBe('html');
    expect(reportFormat(undefined, 'text/markdown; charset=utf-8')).toBe('markdown');
    expect(reportFormat(undefined, undefined)).toBe('json');
    expect(reportFormat('pdf', undefined)).toBeNull();
  });
});
