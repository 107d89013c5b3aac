// Results as the results service recorded them: the decision, the health checks, per metric the
// lift with its interval, and the cumulative effect over time from BigQuery's experiment_results.
import { api, type Json } from './api';
import { EffectChart } from './chart';
import { Badge, dateTime, errorText, pct } from './ui';

function IntervalBar({ lo, hi }: { lo: number | null; hi: number | null }) {
  if (lo === null || hi === null) return <span class="muted">—</span>;
  const span = Math.max(Math.abs(lo), Math.abs(hi), 0.01) * 1.1;
  const at = (x: number) => `${((x + span) / (2 * span)) * 100}%`;
  return (
    <div class="bar" role="img" aria-label={`interval ${pct(lo)} to ${pct(hi)}`}>
      <span class="zero" style={{ left: '50%' }} />
      <span class="ci" style={{ left: at(lo), width: `${((hi - lo) / (2 * span)) * 100}%` }} />
    </div>
  );
}

/** The results summary: decision, health, and per metric the lift with its interval. */
export function ResultsTable({ r }: { r: Json }) {
  return (
    <>
      <p class="decision">{r.decision.sentence}</p>
      <p>
        SRM {r.health.srm.warning ? 'warning' : 'ok'} (p = {r.health.srm.pValue.toFixed(4)}) · multiple
        exposures {r.health.multipleExposures.warning ? 'warning' : 'ok'} · power{' '}
        {r.health.power.underpowered ? 'underpowered' : 'ok'} · units{' '}
        {(r.variants as Json[]).map((v) => `${v.variationId} ${v.units}`).join(', ')} · snapshot{' '}
        {dateTime(r.snapshotAt)}
      </p>
      <table>
        <caption class="muted">Effects per metric, each variant against the baseline</caption>
        <thead>
          <tr>
            <th scope="col">Metric</th>
            <th scope="col">Variant</th>
            <th scope="col">Lift</th>
            <th scope="col">Interval</th>
            <th scope="col">Chance to win</th>
            <th scope="col">p-value</th>
          </tr>
        </thead>
        <tbody>
          {r.metrics.flatMap((m: Json) =>
            m.comparisons.map((c: Json) => (
              <tr key={`${m.id}-${c.variationId}`}>
                <td>
                  {m.id} <span class="muted">({m.role})</span>
                  {c.guardrailFailed && <Badge tone="off">guardrail harmed</Badge>}
                </td>
                <td>{c.variationId}</td>
                <td>{pct(c.lift)}</td>
                <td>
                  {pct(c.liftCiLower)} to {pct(c.liftCiUpper)}
                  <IntervalBar lo={c.liftCiLower} hi={c.liftCiUpper} />
                </td>
                <td>{pct(c.chanceToWin, false)}</td>
                <td>{c.pValue === null ? '—' : c.pValue.toFixed(4)}</td>
              </tr>
            )),
          )}
        </tbody>
      </table>
    </>
  );
}

export function History({ history }: { history: Json }) {
  if (!history) return null;
  if (history.error) return <p class="muted">Effect over time unavailable: {history.error}</p>;
  if (history.series.length === 0)
    return <p class="muted">No snapshot in BigQuery's experiment_results yet for this phase.</p>;
  return (
    <>
      <h3>Cumulative effect over time</h3>
      <p class="muted">
        {history.snapshots} snapshot(s) of phase {history.phase}, from BigQuery's experiment_results.
      </p>
      {(history.series as Json[]).map((s, i) => (
        <EffectChart key={`${s.metric}-${s.variationId}`} series={s} id={`chart-${i}`} />
      ))}
    </>
  );
}

/** The history, or why it is missing (the results service may be down: the page still works). */
export const loadHistory = (path: string) =>
  api('GET', `${path}/results/history`).catch((err) => ({ error: errorText(err), series: [] }));
