// The cumulative effect over time: one hand-drawn SVG per metric and variant, the lift as a
// line and its interval as a band over snapshot time, zero marked. Accessible: the SVG has a
// title and a description (role img), and a table holds the same numbers.
import type { Json } from './api';
import { dateTime as date, pct } from './ui';

const W = 640;
const H = 200;
const PAD = { left: 56, right: 12, top: 12, bottom: 28 };

export function EffectChart({ series, id }: { series: Json; id: string }) {
  const points = (series.points as Json[]).filter((p) => p.lift !== null);
  const title = `Cumulative lift of ${series.metric} (${series.variationId} vs ${series.baselineVariationId})`;
  const last = points[points.length - 1];
  const desc =
    points.length === 0
      ? 'No snapshot with an effect yet.'
      : `${points.length} snapshot(s) from ${date(points[0].snapshotAt)} to ${date(last.snapshotAt)}; ` +
        `latest lift ${pct(last.lift)}, interval ${pct(last.liftCiLower)} to ${pct(last.liftCiUpper)}.`;
  const times = points.map((p) => Date.parse(p.snapshotAt));
  const values = points.flatMap((p) => [p.lift, p.liftCiLower, p.liftCiUpper]).filter((v) => v !== null);
  const lo = Math.min(0, ...values);
  const hi = Math.max(0, ...values);
  const span = hi - lo || 0.01;
  const t0 = Math.min(...times);
  const t1 = Math.max(...times);
  const x = (t: number) =>
    PAD.left +
    (t1 === t0 ? (W - PAD.left - PAD.right) / 2 : ((t - t0) / (t1 - t0)) * (W - PAD.left - PAD.right));
  const y = (v: number) => PAD.top + ((hi + span * 0.05 - v) / (span * 1.1)) * (H - PAD.top - PAD.bottom);
  const withCi = points.filter((p) => p.liftCiLower !== null && p.liftCiUpper !== null);
  const band =
    withCi.length > 0
      ? [
          ...withCi.map((p) => `${x(Date.parse(p.snapshotAt))},${y(p.liftCiUpper)}`),
          ...withCi
            .slice()
            .reverse()
            .map((p) => `${x(Date.parse(p.snapshotAt))},${y(p.liftCiLower)}`),
        ].join(' ')
      : '';
  const line = points.map((p) => `${x(Date.parse(p.snapshotAt))},${y(p.lift)}`).join(' ');
  const ticks = [hi, (hi + lo) / 2, lo];
  return (
    <figure class="chart">
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-labelledby={`${id}-title ${id}-desc`}
        width="100%"
        preserveAspectRatio="xMidYMid meet"
      >
        <title id={`${id}-title`}>{title}</title>
        <desc id={`${id}-desc`}>{desc}</desc>
        <rect
          x={PAD.left}
          y={PAD.top}
          width={W - PAD.left - PAD.right}
          height={H - PAD.top - PAD.bottom}
          class="plot"
        />
        {ticks.map((v) => (
          <text key={v} x={PAD.left - 6} y={y(v) + 4} text-anchor="end" class="tick">
            {pct(v)}
          </text>
        ))}
        <line x1={PAD.left} x2={W - PAD.right} y1={y(0)} y2={y(0)} class="zero" />
        {band && <polygon points={band} class="band" />}
        {points.length > 1 && <polyline points={line} class="lift" />}
        {points.map((p) => (
          <circle key={p.snapshotId} cx={x(Date.parse(p.snapshotAt))} cy={y(p.lift)} r={3} class="dot" />
        ))}
        {points.length > 0 && (
          <>
            <text x={PAD.left} y={H - 8} class="tick">
              {date(points[0].snapshotAt)}
            </text>
            <text x={W - PAD.right} y={H - 8} text-anchor="end" class="tick">
              {date(last.snapshotAt)}
            </text>
          </>
        )}
      </svg>
      <figcaption>{title}: line = lift, band = its interval, horizontal line = no effect.</figcaption>
      <details>
        <summary>The chart's numbers as a table</summary>
        <table>
          <caption class="muted">{title}</caption>
          <thead>
            <tr>
              <th scope="col">Snapshot</th>
              <th scope="col">Units</th>
              <th scope="col">Lift</th>
              <th scope="col">Interval</th>
              <th scope="col">p-value</th>
            </tr>
          </thead>
          <tbody>
            {(series.points as Json[]).map((p) => (
              <tr key={p.snapshotId}>
                <td>{date(p.snapshotAt)}</td>
                <td>{p.units}</td>
                <td>{pct(p.lift)}</td>
                <td>
                  {pct(p.liftCiLower)} to {pct(p.liftCiUpper)}
                </td>
                <td>{p.pValue === null ? '—' : p.pValue.toFixed(4)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
