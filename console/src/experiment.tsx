// One experiment: its brief, the editor (PATCH with If-Match; the API's reason and field paths
// on refusal), the lifecycle as the registry computes it for this caller (allowedTransitions),
// results with a refresh on demand and the cumulative effect over time, the log, and a report
// view for stakeholders that prints (or saves as PDF) on its own.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, canWrite, token, type FieldProblem, type Json, type Me } from './api';
import { EffectChart } from './chart';
import { useLoad } from './load';
import { Badge, NoticeBox, PageTitle, date, dateTime, errorText, pct, type Notice } from './ui';

const ROLES = ['primary', 'secondary', 'guardrail'] as const;
const AGGREGATIONS = ['conversion', 'count', 'sum', 'mean'] as const;

interface VariantRow {
  key: string;
  name: string;
  weight: string;
  value: string;
}
interface MetricRow {
  role: (typeof ROLES)[number];
  name: string;
  event: string;
  aggregation: (typeof AGGREGATIONS)[number];
}

/** A value typed in a form: JSON when it parses (true, 3, {"a":1}, "quoted"), else the text. */
export function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
const showTyped = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

function formOf(exp: Json) {
  return {
    name: exp.name as string,
    hypothesis: exp.hypothesis as string,
    description: exp.description as string,
    flagKey: (exp.flagKey ?? '') as string,
    trafficCoverage: String(Math.round(exp.trafficCoverage * 1000) / 10),
    variants: (exp.variants as Json[]).map((v): VariantRow => ({
      key: v.key,
      name: v.name ?? '',
      weight: String(v.weight),
      value: showTyped(v.value),
    })),
    metrics: ROLES.flatMap((role) =>
      (exp[`${role}Metrics`] as Json[]).map((m): MetricRow => ({
        role,
        name: m.name ?? '',
        event: m.event,
        aggregation: m.aggregation,
      })),
    ),
  };
}
type Form = ReturnType<typeof formOf>;

/** The PATCH body for what the form holds (the API checks it all and names any bad field). */
function patchOf(f: Form): Record<string, unknown> {
  const metrics = (role: string) =>
    f.metrics
      .filter((m) => m.role === role)
      .map((m) => ({ event: m.event, aggregation: m.aggregation, ...(m.name ? { name: m.name } : {}) }));
  return {
    name: f.name,
    hypothesis: f.hypothesis,
    description: f.description,
    flagKey: f.flagKey.trim() || null,
    trafficCoverage: Number(f.trafficCoverage) / 100,
    variants: f.variants.map((v) => ({
      key: v.key,
      ...(v.name ? { name: v.name } : {}),
      weight: Number(v.weight),
      value: parseValue(v.value),
    })),
    primaryMetrics: metrics('primary'),
    secondaryMetrics: metrics('secondary'),
    guardrailMetrics: metrics('guardrail'),
  };
}

/** The API's field path for a form row: metrics are stored per role, the form lists them together. */
function metricPath(f: Form, index: number): string {
  const m = f.metrics[index]!;
  const within = f.metrics.slice(0, index).filter((x) => x.role === m.role).length;
  return `${m.role}Metrics.${within}`;
}

function Editor({
  exp,
  onSaved,
  onCancel,
}: {
  exp: Json;
  onSaved: (next: Json) => void;
  onCancel: () => void;
}) {
  const [form, setForm] = useState<Form>(() => formOf(exp));
  const [problems, setProblems] = useState<FieldProblem[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [flags] = useLoad(() => api('GET', '/v1/flags'), []);
  const problemAt = (path: string) =>
    problems.filter((p) => p.path === path || p.path.startsWith(`${path}.`));
  const field = (path: string, id: string) => {
    const found = problemAt(path);
    return found.length ? { 'aria-invalid': true as const, 'aria-describedby': `${id}-problem` } : {};
  };
  const Problem = ({ path, id }: { path: string; id: string }) => {
    const found = problemAt(path);
    return found.length ? (
      <span id={`${id}-problem`} class="field-problem">
        {found.map((p) => `${p.path}: ${p.message}`).join('; ')}
      </span>
    ) : null;
  };
  const set = (k: 'name' | 'hypothesis' | 'description' | 'flagKey' | 'trafficCoverage') => (e: Event) =>
    setForm({ ...form, [k]: (e.target as HTMLInputElement).value });
  const setVariant = (i: number, k: keyof VariantRow) => (e: Event) =>
    setForm({
      ...form,
      variants: form.variants.map((v, j) =>
        j === i ? { ...v, [k]: (e.target as HTMLInputElement).value } : v,
      ),
    });
  const setMetric = (i: number, k: keyof MetricRow) => (e: Event) =>
    setForm({
      ...form,
      metrics: form.metrics.map((m, j) =>
        j === i ? { ...m, [k]: (e.target as HTMLInputElement).value } : m,
      ),
    });

  const save = async (e: Event) => {
    e.preventDefault();
    try {
      const next = await api('PATCH', `/v1/experiments/${encodeURIComponent(exp.key)}`, patchOf(form), {
        'if-match': `"${exp.version}"`,
      });
      setProblems([]);
      setError(null);
      onSaved(next);
    } catch (err) {
      setProblems(err instanceof ApiError ? err.fields : []);
      setError(
        err instanceof ApiError && err.code === 'version_conflict'
          ? `Not saved: ${errorText(err)}. Someone saved a newer version: reload the page to see it (reloading drops the edits in this form).`
          : `Not saved: ${errorText(err)}`,
      );
    }
  };

  return (
    <form class="editor" onSubmit={save} aria-labelledby="edit-heading">
      <h3 id="edit-heading">Edit the design</h3>
      <p class="muted">
        Saved with If-Match version {exp.version}: if someone saved meanwhile, nothing is overwritten.
        Reviewed experiments are frozen (move back to draft first); the API says which field it refuses and
        why.
      </p>
      <div role="alert">{error && <p class="notice error">{error}</p>}</div>
      <div class="grid">
        <div>
          <label for="edit-name">Name</label>
          <input
            id="edit-name"
            required
            value={form.name}
            onInput={set('name')}
            {...field('name', 'edit-name')}
          />
          <Problem path="name" id="edit-name" />
        </div>
        <div>
          <label for="edit-flag">Flag key</label>
          <input
            id="edit-flag"
            list="edit-flag-list"
            value={form.flagKey}
            onInput={set('flagKey')}
            {...field('flagKey', 'edit-flag')}
          />
          <datalist id="edit-flag-list">
            {(flags?.flags ?? []).map((f: Json) => (
              <option key={f.key} value={f.key} />
            ))}
          </datalist>
          <Problem path="flagKey" id="edit-flag" />
        </div>
        <div>
          <label for="edit-coverage">Traffic (% of matching units)</label>
          <input
            id="edit-coverage"
            type="number"
            min={0}
            max={100}
            step="any"
            value={form.trafficCoverage}
            onInput={set('trafficCoverage')}
            {...field('trafficCoverage', 'edit-coverage')}
          />
          <Problem path="trafficCoverage" id="edit-coverage" />
        </div>
      </div>
      <label for="edit-hypothesis">Hypothesis</label>
      <textarea
        id="edit-hypothesis"
        value={form.hypothesis}
        onInput={set('hypothesis')}
        {...field('hypothesis', 'edit-hypothesis')}
      />
      <Problem path="hypothesis" id="edit-hypothesis" />
      <label for="edit-description">Description</label>
      <textarea id="edit-description" value={form.description} onInput={set('description')} />

      <fieldset>
        <legend>Variants (the first is the baseline)</legend>
        <Problem path="variants" id="edit-variants" />
        {form.variants.map((v, i) => (
          <div class="row" key={i} role="group" aria-label={`Variant ${i + 1}`}>
            <div>
              <label for={`variant-${i}-key`}>Variant {i + 1} key</label>
              <input
                id={`variant-${i}-key`}
                required
                value={v.key}
                onInput={setVariant(i, 'key')}
                {...field(`variants.${i}.key`, `variant-${i}-key`)}
              />
            </div>
            <div>
              <label for={`variant-${i}-weight`}>Variant {i + 1} weight</label>
              <input
                id={`variant-${i}-weight`}
                type="number"
                min={0}
                step="any"
                value={v.weight}
                onInput={setVariant(i, 'weight')}
                {...field(`variants.${i}.weight`, `variant-${i}-weight`)}
              />
            </div>
            <div>
              <label for={`variant-${i}-value`}>Variant {i + 1} value</label>
              <input
                id={`variant-${i}-value`}
                value={v.value}
                onInput={setVariant(i, 'value')}
                {...field(`variants.${i}.value`, `variant-${i}-value`)}
              />
            </div>
            <div>
              <button
                type="button"
                class="secondary"
                onClick={() => setForm({ ...form, variants: form.variants.filter((_, j) => j !== i) })}
              >
                Remove variant {i + 1}
              </button>
            </div>
            <Problem path={`variants.${i}`} id={`variant-${i}`} />
          </div>
        ))}
        <button
          type="button"
          class="secondary"
          onClick={() =>
            setForm({ ...form, variants: [...form.variants, { key: '', name: '', weight: '1', value: '' }] })
          }
        >
          Add a variant
        </button>
        <p class="muted">Values are JSON when they parse (true, 3, {'{"a":1}'}); other text is a string.</p>
      </fieldset>

      <fieldset>
        <legend>Metrics</legend>
        {form.metrics.map((m, i) => {
          const path = metricPath(form, i);
          return (
            <div class="row" key={i} role="group" aria-label={`Metric ${i + 1}`}>
              <div>
                <label for={`metric-${i}-role`}>Metric {i + 1} role</label>
                <select id={`metric-${i}-role`} value={m.role} onChange={setMetric(i, 'role')}>
                  {ROLES.map((r) => (
                    <option key={r} value={r}>
                      {r}
                    </option>
                  ))}
                </select>
              </div>
              <div>
                <label for={`metric-${i}-name`}>Metric {i + 1} name</label>
                <input id={`metric-${i}-name`} value={m.name} onInput={setMetric(i, 'name')} />
              </div>
              <div>
                <label for={`metric-${i}-event`}>Metric {i + 1} event</label>
                <input
                  id={`metric-${i}-event`}
                  required
                  value={m.event}
                  onInput={setMetric(i, 'event')}
                  {...field(`${path}.event`, `metric-${i}-event`)}
                />
              </div>
              <div>
                <label for={`metric-${i}-aggregation`}>Metric {i + 1} aggregation</label>
                <select
                  id={`metric-${i}-aggregation`}
                  value={m.aggregation}
                  onChange={setMetric(i, 'aggregation')}
                >
                  {AGGREGATIONS.map((a) => (
                    <option key={a} value={a}>
                      {a}
                    </option>
                  ))}
                </select>
              </div>
              <div>
                <button
                  type="button"
                  class="secondary"
                  onClick={() => setForm({ ...form, metrics: form.metrics.filter((_, j) => j !== i) })}
                >
                  Remove metric {i + 1}
                </button>
              </div>
              <Problem path={path} id={`metric-${i}`} />
            </div>
          );
        })}
        <button
          type="button"
          class="secondary"
          onClick={() =>
            setForm({
              ...form,
              metrics: [
                ...form.metrics,
                {
                  role: form.metrics.length ? 'secondary' : 'primary',
                  name: '',
                  event: '',
                  aggregation: 'conversion',
                },
              ],
            })
          }
        >
          Add a metric
        </button>
      </fieldset>
      <p>
        <button type="submit">Save changes</button>{' '}
        <button type="button" class="secondary" onClick={onCancel}>
          Cancel
        </button>
      </p>
    </form>
  );
}

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
function ResultsTable({ r }: { r: Json }) {
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

function History({ history }: { history: Json }) {
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
const loadHistory = (path: string) =>
  api('GET', `${path}/results/history`).catch((err) => ({ error: errorText(err), series: [] }));

export function ExperimentPage({ me, keyName }: { me: Me; keyName: string }) {
  const path = `/v1/experiments/${encodeURIComponent(keyName)}`;
  const [exp, error, reload] = useLoad(() => api('GET', path), [keyName]);
  const [log, , reloadLog] = useLoad(() => api('GET', `${path}/log`), [keyName]);
  const [report, , reloadReport] = useLoad(() => api('GET', `${path}/results`), [keyName]);
  const [history, , reloadHistory] = useLoad(() => loadHistory(path), [keyName]);
  const [notice, setNotice] = useState<Notice | null>(null);
  const [editing, setEditing] = useState(false);
  const [comment, setComment] = useState('');
  const [decision, setDecision] = useState('ship');
  const [refreshing, setRefreshing] = useState(false);

  const reloadAll = () => {
    reload();
    reloadLog();
    reloadReport();
    reloadHistory();
  };
  const transition = async (to: string) => {
    try {
      const body: Json = { to, version: exp.version };
      if (comment) body[to === 'concluded' ? 'summary' : 'comment'] = comment;
      if (to === 'concluded') body.decision = decision;
      const next = await api('POST', `${path}/transitions`, body);
      setNotice({
        kind: 'ok',
        text: `${exp.key} moved from ${exp.status} to ${next.status} (version ${next.version}).`,
      });
      setComment('');
      reloadAll();
    } catch (err) {
      setNotice({ kind: 'error', text: `Refused: ${errorText(err)}` });
    }
  };
  const refresh = async () => {
    setRefreshing(true);
    try {
      const r = await api('POST', `${path}/results/refresh`);
      setNotice({
        kind: 'ok',
        text: `Results refreshed: snapshot ${dateTime(r.snapshotAt)}. ${r.sentence ?? ''}`,
      });
      reloadAll();
    } catch (err) {
      const noData = err instanceof ApiError && err.status === 404 && err.code === 'error';
      setNotice({
        kind: 'error',
        text: noData
          ? 'Results not refreshed: no exposed units in BigQuery yet for this phase (traffic reaches BigQuery through the collector, enricher and sink within seconds).'
          : `Results not refreshed: ${errorText(err)}`,
      });
    } finally {
      setRefreshing(false);
    }
  };
  const exportReport = async () => {
    try {
      const res = await fetch(`${path}/results?format=md`, {
        headers: { authorization: `Bearer ${token()}` },
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
      const a = document.createElement('a');
      a.href = URL.createObjectURL(new Blob([await res.text()], { type: 'text/markdown' }));
      a.download = `${keyName}-results.md`;
      a.click();
      URL.revokeObjectURL(a.href);
      setNotice({ kind: 'ok', text: `Exported the report as ${keyName}-results.md.` });
    } catch (err) {
      setNotice({ kind: 'error', text: `Could not export the report: ${errorText(err)}` });
    }
  };
  if (!exp) return <NoticeBox notice={error ? { kind: 'error', text: error } : null} />;
  const r = report?.results;
  const next = (exp.allowedTransitions ?? []) as Json[];
  const open = next.filter((t) => t.allowed);
  const blocked = next.filter((t) => !t.allowed);
  const needsLearnings = open.some((t) => t.inputs.includes('summary'));
  return (
    <section>
      <PageTitle>
        {exp.name} <span class="muted">({exp.key})</span>
      </PageTitle>
      <NoticeBox notice={notice} />
      <p>
        Status <Badge>{exp.status}</Badge> · owner {exp.owner} · version {exp.version}
        {exp.approval && ` · approved by ${exp.approval.by} on ${date(exp.approval.at)}`} ·{' '}
        <a href={`#/experiments/${encodeURIComponent(exp.key)}/report`}>
          Report for stakeholders (print or PDF)
        </a>
      </p>
      <h2>Brief</h2>
      <p>
        <strong>Hypothesis:</strong> {exp.hypothesis || <span class="muted">not written yet</span>}
      </p>
      {exp.description && <pre>{exp.description}</pre>}
      <p>
        Flag {exp.flagKey ?? '—'} · environment {exp.environment} · traffic {pct(exp.trafficCoverage, false)}{' '}
        · targeting{' '}
        {exp.targeting.conditions.length + exp.targeting.segments.length === 0
          ? 'everyone'
          : [
              ...exp.targeting.segments.map((s: string) => `segment ${s}`),
              ...exp.targeting.conditions.map(
                (c: Json) => `${c.attribute} ${c.operator} ${JSON.stringify(c.value)}`,
              ),
            ].join(' and ')}
      </p>
      <table>
        <caption class="muted">Variants</caption>
        <thead>
          <tr>
            <th scope="col">Variant</th>
            <th scope="col">Weight</th>
            <th scope="col">Value</th>
          </tr>
        </thead>
        <tbody>
          {exp.variants.map((v: Json) => (
            <tr key={v.key}>
              <td>{v.name ?? v.key}</td>
              <td>{v.weight}</td>
              <td>
                <code>{JSON.stringify(v.value)}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {exp.variants.length === 0 && <p class="muted">No variants yet (needed before review).</p>}
      <p>
        Metrics:{' '}
        {ROLES.flatMap((role) =>
          (exp[`${role}Metrics`] as Json[]).map(
            (m) => `${m.name ?? m.event} (${role}, ${m.aggregation} of ${m.event})`,
          ),
        ).join(' · ') || <span class="muted">none yet (a primary metric is needed before review)</span>}
      </p>
      {canWrite(me) &&
        (editing ? (
          <Editor
            exp={exp}
            onCancel={() => setEditing(false)}
            onSaved={(saved) => {
              setEditing(false);
              setNotice({ kind: 'ok', text: `Saved ${saved.key}: now version ${saved.version}.` });
              reloadAll();
            }}
          />
        ) : (
          <p>
            <button type="button" class="secondary" onClick={() => setEditing(true)}>
              Edit the design
            </button>
          </p>
        ))}

      <h2>Lifecycle</h2>
      <p class="muted">
        What you can do next, as the registry's lifecycle rules judge it for you ({me.identity}). Approval
        must come from a person other than the owner and whoever last changed the design.
      </p>
      {next.length === 0 && <p>None: {exp.status} is final.</p>}
      {blocked.length > 0 && (
        <ul class="blocked">
          {blocked.map((t) => (
            <li key={t.to}>
              <strong>{t.to}</strong> is blocked: {t.unmet.join('; ')}
            </li>
          ))}
        </ul>
      )}
      {open.length > 0 && (
        <div>
          <label for="transition-comment">
            {needsLearnings ? 'Learnings (summary)' : 'Comment (optional)'}
          </label>
          <textarea
            id="transition-comment"
            value={comment}
            onInput={(e) => setComment((e.target as HTMLTextAreaElement).value)}
          />
          {needsLearnings && (
            <>
              <label for="transition-decision">Decision</label>
              <select
                id="transition-decision"
                value={decision}
                onChange={(e) => setDecision((e.target as HTMLSelectElement).value)}
              >
                <option value="ship">ship</option>
                <option value="rollback">rollback</option>
                <option value="iterate">iterate</option>
              </select>
            </>
          )}
          <p>
            {open.map((t) => (
              <button key={t.to} type="button" class="secondary" onClick={() => transition(t.to)}>
                Move to {t.to}
              </button>
            ))}
          </p>
        </div>
      )}

      <h2>Results</h2>
      {canWrite(me) && (
        <p>
          <button
            type="button"
            class="secondary"
            onClick={refresh}
            disabled={refreshing}
            aria-busy={refreshing}
          >
            {refreshing ? 'Refreshing…' : 'Refresh results now'}
          </button>{' '}
          <span class="muted">The results service also refreshes running experiments every 30 s.</span>
        </p>
      )}
      {!r ? (
        <p class="muted">
          No results yet: the results service has not recorded a snapshot for this experiment.
        </p>
      ) : (
        <ResultsTable r={r} />
      )}
      <History history={history} />
      <p>
        <button type="button" class="secondary" onClick={exportReport}>
          Export the report (Markdown)
        </button>
      </p>

      <h2>Log</h2>
      <ol>
        {(log?.entries ?? []).map((e: Json) => (
          <li key={e.id}>
            {dateTime(e.at)} · <strong>{e.action}</strong> by {e.actor}
            {e.version !== null && ` (version ${e.version})`}
          </li>
        ))}
      </ol>
    </section>
  );
}

/** The report for stakeholders: what a PDF holds. The print stylesheet drops the navigation. */
export function ReportPage({ keyName }: { keyName: string }) {
  const path = `/v1/experiments/${encodeURIComponent(keyName)}`;
  const [report, error] = useLoad(() => api('GET', `${path}/results`), [keyName]);
  const [history] = useLoad(() => loadHistory(path), [keyName]);
  useEffect(() => {
    if (report) document.title = `${report.experiment.name}: results report`;
    return () => {
      document.title = 'xp console';
    };
  }, [report]);
  if (!report) return <NoticeBox notice={error ? { kind: 'error', text: error } : null} />;
  const x = report.experiment;
  return (
    <article class="report">
      <PageTitle>
        {x.name} <span class="muted">({x.key})</span>: results report
      </PageTitle>
      <p class="no-print">
        <button type="button" onClick={() => print()}>
          Save as PDF (print)
        </button>{' '}
        <a href={`#/experiments/${encodeURIComponent(keyName)}`}>Back to the experiment</a>
      </p>
      <p>
        Status {x.status} · owner {x.owner} · results{' '}
        {report.source === 'final' ? 'frozen at conclusion' : 'latest'}
      </p>
      <p>
        <strong>Hypothesis:</strong> {x.hypothesis || '—'}
      </p>
      {x.decision && (
        <p>
          <strong>Decision:</strong> {x.decision}
        </p>
      )}
      {x.learnings && (
        <>
          <h2>Learnings</h2>
          <p class="learnings">{x.learnings}</p>
        </>
      )}
      <h2>Results</h2>
      {report.results ? <ResultsTable r={report.results} /> : <p>No results recorded.</p>}
      <History history={history} />
      <p class="muted">Generated {dateTime(new Date().toISOString())} from the xp registry.</p>
    </article>
  );
}
