// One experiment: its brief, the editor (experiment-editor.tsx), the lifecycle as the registry
// computes it for this caller (allowedTransitions), results with a refresh on demand and the
// cumulative effect over time (results-view.tsx), the log, and a report view for stakeholders
// that prints (or saves as PDF) on its own.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, canWrite, token, type Json, type Me } from './api';
import { Editor, ROLES } from './experiment-editor';
import { useLoad } from './load';
import { History, ResultsTable, loadHistory } from './results-view';
import { Badge, NoticeBox, PageTitle, date, dateTime, errorText, pct, type Notice } from './ui';

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
            (m) =>
              `${m.name ?? m.event} (${role}, ${m.aggregation} of ${m.event}${m.inverse ? ', lower is better' : ''})`,
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
