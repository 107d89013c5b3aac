import { useEffect, useRef, useState } from 'preact/hooks';
import { api, canWrite, token, type Json, type Me } from './api';
import { NoticeBox, PageTitle, date, errorText, pct, type Notice } from './ui';

// A copy of the registry's lifecycle (services/registry/lifecycle-rules.ts TRANSITIONS): which
// buttons to offer. The API checks every guard and its refusal is shown as is.
const TRANSITIONS: Record<string, string[]> = {
  draft: ['in_review', 'archived'],
  in_review: ['approved', 'draft'],
  approved: ['running', 'draft'],
  running: ['stopped'],
  stopped: ['concluded'],
  concluded: ['archived'],
  archived: [],
};

function useLoad<T>(load: () => Promise<T>, deps: unknown[]): [T | null, string | null, () => void] {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    load().then(
      (d) => (setData(d), setError(null)),
      (e) => setError(errorText(e)),
    );
  }, [...deps, tick]);
  return [data, error, () => setTick((t) => t + 1)];
}

export function IdeasPage({ me }: { me: Me }) {
  const [data, error, reload] = useLoad(() => api('GET', '/v1/ideas?sort=score'), []);
  const [notice, setNotice] = useState<Notice | null>(null);
  const [form, setForm] = useState({
    key: '',
    title: '',
    hypothesis: '',
    impact: '5',
    confidence: '5',
    ease: '5',
    link: '',
  });
  const set = (k: keyof typeof form) => (e: Event) =>
    setForm({ ...form, [k]: (e.target as HTMLInputElement).value });

  const create = async (e: Event) => {
    e.preventDefault();
    try {
      const created = await api('POST', '/v1/ideas', {
        key: form.key,
        title: form.title,
        hypothesis: form.hypothesis,
        expectedImpact: Number(form.impact),
        confidence: Number(form.confidence),
        ease: Number(form.ease),
        links: form.link ? [{ url: form.link }] : [],
      });
      setNotice({ kind: 'ok', text: `Created idea "${created.key}" with ICE score ${created.score}.` });
      setForm({ ...form, key: '', title: '', hypothesis: '', link: '' });
      reload();
    } catch (err) {
      setNotice({ kind: 'error', text: `Could not create the idea: ${errorText(err)}` });
    }
  };
  const promote = async (idea: Json) => {
    try {
      const r = await api('POST', `/v1/ideas/${encodeURIComponent(idea.key)}/promote`, {
        version: idea.version,
      });
      setNotice({
        kind: 'ok',
        text: `Promoted idea "${idea.key}" to the draft experiment "${r.experiment.key}" (owner ${r.experiment.owner}).`,
      });
      reload();
    } catch (err) {
      setNotice({ kind: 'error', text: `Could not promote "${idea.key}": ${errorText(err)}` });
    }
  };

  return (
    <section>
      <PageTitle>Ideas</PageTitle>
      <NoticeBox notice={notice ?? (error ? { kind: 'error', text: error } : null)} />
      {data && (
        <p class="muted">
          Ranked by {data.scoring.method}: {data.scoring.formula}.
        </p>
      )}
      <table>
        <caption class="muted">Backlog, highest score first</caption>
        <thead>
          <tr>
            <th scope="col">Score</th>
            <th scope="col">Idea</th>
            <th scope="col">Impact</th>
            <th scope="col">Confidence</th>
            <th scope="col">Ease</th>
            <th scope="col">Owner</th>
            <th scope="col">Status</th>
            <th scope="col">Action</th>
          </tr>
        </thead>
        <tbody>
          {(data?.ideas ?? []).map((i: Json) => (
            <tr key={i.key}>
              <td>{i.score}</td>
              <td>
                <strong>{i.title}</strong> <span class="muted">({i.key})</span>
                {i.hypothesis && <div>{i.hypothesis}</div>}
                {i.links.map((l: Json) => (
                  <div key={l.url}>
                    <a href={l.url} rel="noopener noreferrer">
                      {l.label ?? l.url}
                    </a>
                  </div>
                ))}
              </td>
              <td>{i.expectedImpact}</td>
              <td>{i.confidence}</td>
              <td>{i.ease}</td>
              <td>{i.owner}</td>
              <td>
                {i.status}
                {i.experimentKey && (
                  <>
                    {' → '}
                    <a href={`#/experiments/${encodeURIComponent(i.experimentKey)}`}>{i.experimentKey}</a>
                  </>
                )}
              </td>
              <td>
                {canWrite(me) && i.status === 'open' && (
                  <button
                    type="button"
                    onClick={() => promote(i)}
                    aria-label={`Promote ${i.key} to an experiment`}
                  >
                    Promote
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {canWrite(me) ? (
        <>
          <h2>New idea</h2>
          <form class="grid" onSubmit={create}>
            <div>
              <label for="idea-key">Key</label>
              <input id="idea-key" required value={form.key} onInput={set('key')} />
            </div>
            <div>
              <label for="idea-title">Title</label>
              <input id="idea-title" required value={form.title} onInput={set('title')} />
            </div>
            <div>
              <label for="idea-impact">Expected impact (1–10)</label>
              <input
                id="idea-impact"
                type="number"
                min={1}
                max={10}
                value={form.impact}
                onInput={set('impact')}
              />
            </div>
            <div>
              <label for="idea-confidence">Confidence (1–10)</label>
              <input
                id="idea-confidence"
                type="number"
                min={1}
                max={10}
                value={form.confidence}
                onInput={set('confidence')}
              />
            </div>
            <div>
              <label for="idea-ease">Ease (1–10)</label>
              <input id="idea-ease" type="number" min={1} max={10} value={form.ease} onInput={set('ease')} />
            </div>
            <div>
              <label for="idea-link">Link (optional)</label>
              <input id="idea-link" type="url" value={form.link} onInput={set('link')} />
            </div>
            <div>
              <label for="idea-hypothesis">Hypothesis</label>
              <textarea id="idea-hypothesis" value={form.hypothesis} onInput={set('hypothesis')} />
            </div>
            <div>
              <button type="submit">Add idea</button>
            </div>
          </form>
        </>
      ) : (
        <p class="muted">
          Your role ({me.role}) can read the backlog; editors and admins add and promote ideas.
        </p>
      )}
    </section>
  );
}

export function ExperimentsPage() {
  const [data, error] = useLoad(() => api('GET', '/v1/experiments'), []);
  return (
    <section>
      <PageTitle>Experiments</PageTitle>
      <NoticeBox notice={error ? { kind: 'error', text: error } : null} />
      <table>
        <thead>
          <tr>
            <th scope="col">Experiment</th>
            <th scope="col">Status</th>
            <th scope="col">Owner</th>
            <th scope="col">Started</th>
          </tr>
        </thead>
        <tbody>
          {(data?.experiments ?? []).map((x: Json) => (
            <tr key={x.key}>
              <td>
                <a href={`#/experiments/${encodeURIComponent(x.key)}`}>{x.name}</a>{' '}
                <span class="muted">({x.key})</span>
              </td>
              <td>
                <span class="badge">{x.status}</span>
              </td>
              <td>{x.owner}</td>
              <td>{date(x.phases[0]?.startedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {data && data.experiments.length === 0 && <p>No experiments yet: promote an idea to start one.</p>}
    </section>
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

export function ExperimentPage({ me, keyName }: { me: Me; keyName: string }) {
  const path = `/v1/experiments/${encodeURIComponent(keyName)}`;
  const [exp, error, reload] = useLoad(() => api('GET', path), [keyName]);
  const [log, , reloadLog] = useLoad(() => api('GET', `${path}/log`), [keyName]);
  const [report] = useLoad(() => api('GET', `${path}/results`), [keyName]);
  const [notice, setNotice] = useState<Notice | null>(null);
  const [comment, setComment] = useState('');
  const [decision, setDecision] = useState('ship');

  const transition = async (to: string) => {
    try {
      const body: Json = { to, version: exp.version };
      if (comment) body[to === 'concluded' ? 'summary' : 'comment'] = comment;
      if (to === 'concluded') body.decision = decision;
      const next = await api('POST', `${path}/transitions`, body);
      setNotice({ kind: 'ok', text: `${exp.key} moved from ${exp.status} to ${next.status}.` });
      setComment('');
      reload();
      reloadLog();
    } catch (err) {
      setNotice({ kind: 'error', text: `Refused: ${errorText(err)}` });
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
  return (
    <section>
      <PageTitle>
        {exp.name} <span class="muted">({exp.key})</span>
      </PageTitle>
      <NoticeBox notice={notice} />
      <p>
        Status <span class="badge">{exp.status}</span> · owner {exp.owner} · version {exp.version}
        {exp.approval && ` · approved by ${exp.approval.by} on ${date(exp.approval.at)}`}
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

      <h2>Lifecycle</h2>
      <p>
        Next allowed: {TRANSITIONS[exp.status]?.join(', ') || 'none (final)'}. Approval must come from a
        person other than the owner and whoever last changed the design.
      </p>
      {canWrite(me) ? (
        <div>
          <label for="transition-comment">
            {exp.status === 'stopped' ? 'Learnings (summary)' : 'Comment (optional)'}
          </label>
          <textarea
            id="transition-comment"
            value={comment}
            onInput={(e) => setComment((e.target as HTMLTextAreaElement).value)}
          />
          {exp.status === 'stopped' && (
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
            {(TRANSITIONS[exp.status] ?? []).map((to) => (
              <button key={to} type="button" class="secondary" onClick={() => transition(to)}>
                Move to {to}
              </button>
            ))}
          </p>
        </div>
      ) : (
        <p class="muted">
          Your role ({me.role}) can read; editors and admins move experiments through the lifecycle.
        </p>
      )}

      <h2>Results</h2>
      {!r ? (
        <p class="muted">
          No results yet: the results service has not recorded a snapshot for this experiment.
        </p>
      ) : (
        <>
          <p class="decision">{r.decision.sentence}</p>
          <p>
            SRM {r.health.srm.warning ? 'warning' : 'ok'} (p = {r.health.srm.pValue.toFixed(4)}) · power{' '}
            {r.health.power.underpowered ? 'underpowered' : 'ok'} · snapshot {date(r.snapshotAt)}
          </p>
          <table>
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
      )}
      <p>
        <button type="button" class="secondary" onClick={exportReport}>
          Export the report (Markdown)
        </button>
      </p>

      <h2>Log</h2>
      <ol>
        {(log?.entries ?? []).map((e: Json) => (
          <li key={e.id}>
            {date(e.at)} · <strong>{e.action}</strong> by {e.actor}
            {e.version !== null && ` (version ${e.version})`}
          </li>
        ))}
      </ol>
    </section>
  );
}

export function FlagsPage({ me }: { me: Me }) {
  const [data, error, reload] = useLoad(() => api('GET', '/v1/flags'), []);
  const [notice, setNotice] = useState<Notice | null>(null);
  const [pending, setPending] = useState<{ flag: Json; env: string; enabled: boolean } | null>(null);
  // The confirmation takes focus, so a keyboard user answers it next.
  const confirmRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (pending) confirmRef.current?.focus();
  }, [pending]);

  const apply = async () => {
    if (!pending) return;
    const { flag, env, enabled } = pending;
    setPending(null);
    try {
      await api(
        'PATCH',
        `/v1/flags/${encodeURIComponent(flag.key)}/environments/${encodeURIComponent(env)}`,
        {
          enabled,
          version: flag.version,
        },
      );
      setNotice({
        kind: 'ok',
        text: `${flag.key} is now ${enabled ? 'on' : 'off'} in ${env}${enabled ? '' : ': everyone gets its off value'}. SDKs receive the change through their stream.`,
      });
      reload();
    } catch (err) {
      setNotice({ kind: 'error', text: `Could not change ${flag.key} in ${env}: ${errorText(err)}` });
    }
  };

  return (
    <section>
      <PageTitle>Flags</PageTitle>
      <NoticeBox notice={notice ?? (error ? { kind: 'error', text: error } : null)} />
      {pending && (
        <div class="confirm" role="group" aria-labelledby="confirm-text">
          <p id="confirm-text">
            Turn <strong>{pending.flag.key}</strong> {pending.enabled ? 'on' : 'off'} in{' '}
            <strong>{pending.env}</strong>?{!pending.enabled && ' Everyone will get its off value at once.'}
          </p>
          <button type="button" class={pending.enabled ? '' : 'danger'} onClick={apply} ref={confirmRef}>
            Confirm: turn {pending.enabled ? 'on' : 'off'}
          </button>{' '}
          <button type="button" class="secondary" onClick={() => setPending(null)}>
            Cancel
          </button>
        </div>
      )}
      <table>
        <thead>
          <tr>
            <th scope="col">Flag</th>
            <th scope="col">Type</th>
            <th scope="col">Owner</th>
            <th scope="col">Environments</th>
          </tr>
        </thead>
        <tbody>
          {(data?.flags ?? []).map((f: Json) => (
            <tr key={f.key}>
              <td>
                <strong>{f.key}</strong>
                <div class="muted">{f.description}</div>
              </td>
              <td>{f.type}</td>
              <td>{f.owner || '—'}</td>
              <td>
                <ul>
                  {Object.entries(f.environments as Record<string, Json>).map(([env, state]) => (
                    <li key={env}>
                      {env}:{' '}
                      <span class={`badge ${state.enabled ? 'on' : 'off'}`}>
                        {state.enabled ? 'on' : 'off'}
                      </span>{' '}
                      <span class="muted">{state.rules.length} rule(s)</span>{' '}
                      {canWrite(me) && (
                        <button
                          type="button"
                          class={state.enabled ? 'danger' : 'secondary'}
                          onClick={() => setPending({ flag: f, env, enabled: !state.enabled })}
                          aria-label={`${state.enabled ? 'Kill switch: turn off' : 'Turn on'} ${f.key} in ${env}`}
                        >
                          {state.enabled ? 'Turn off' : 'Turn on'}
                        </button>
                      )}
                    </li>
                  ))}
                </ul>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
