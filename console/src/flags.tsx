// Flags: per environment its state, its rules in words ("if country is one of DE, FR →
// 'green'"), the kill switch (asks for confirmation first, which takes focus) and the flag's
// audit trail (GET /v1/audit?entityType=flag&key=K).
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, canWrite, type Json, type Me } from './api';
import { useLoad } from './load';
import { describeEnvironment, describeRule, type ReadableRule } from './rules';
import { Badge, NoticeBox, PageTitle, dateTime, errorText, type Notice } from './ui';

/** What changed in an audit entry, in words: "environments.production.enabled: true → false". */
function changes(entry: Json): string {
  const diff = (entry.diff ?? []) as Json[];
  if (diff.length === 0) return '';
  // A whole document (created, deleted) has the empty path: the action says it all.
  const named = diff.filter((d) => d.path);
  const shown = named.slice(0, 4).map((d) => {
    const at = String(d.path);
    const isRule = /\.rules\.\d+$/.test(at);
    const v = (x: unknown) =>
      x === undefined || x === null
        ? '∅'
        : isRule && typeof x === 'object'
          ? `(${describeRule(x as ReadableRule)})`
          : JSON.stringify(x).slice(0, 80);
    return `${at}: ${v(d.before)} → ${v(d.after)}`;
  });
  return shown.join('; ') + (named.length > 4 ? `; and ${named.length - 4} more` : '');
}

function AuditTrail({ flagKey }: { flagKey: string }) {
  const [data, error] = useLoad(
    () => api('GET', `/v1/audit?entityType=flag&key=${encodeURIComponent(flagKey)}&limit=50`),
    [flagKey],
  );
  if (error) return <p class="notice error">Could not load the history: {error}</p>;
  if (!data) return <p aria-busy="true">Loading the history…</p>;
  return (
    <table>
      <caption class="muted">History of {flagKey}, newest first</caption>
      <thead>
        <tr>
          <th scope="col">When</th>
          <th scope="col">What</th>
          <th scope="col">Who</th>
          <th scope="col">Changes</th>
        </tr>
      </thead>
      <tbody>
        {(data.entries as Json[]).map((e) => (
          <tr key={e.id}>
            <td>{dateTime(e.at)}</td>
            <td>{e.action}</td>
            <td>{e.actor}</td>
            <td class="muted">{changes(e)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function FlagsPage({ me }: { me: Me }) {
  const [data, error, reload] = useLoad(() => api('GET', '/v1/flags'), []);
  const [notice, setNotice] = useState<Notice | null>(null);
  const [filter, setFilter] = useState('');
  const [history, setHistory] = useState<string | null>(null);
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

  const shown = ((data?.flags ?? []) as Json[]).filter((f) =>
    `${f.key} ${f.description} ${f.owner}`.toLowerCase().includes(filter.trim().toLowerCase()),
  );
  return (
    <section>
      <PageTitle>Flags</PageTitle>
      <NoticeBox notice={notice ?? (error ? { kind: 'error', text: error } : null)} />
      <label for="flags-filter">Filter (key, description or owner)</label>
      <input
        id="flags-filter"
        type="search"
        value={filter}
        onInput={(e) => setFilter((e.target as HTMLInputElement).value)}
      />
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
      <p class="muted">
        {shown.length} of {data?.flags.length ?? 0} flags. Rules are evaluated top to bottom; the first that
        matches serves.
      </p>
      {shown.map((f) => (
        <article class="flag" key={f.key} aria-labelledby={`flag-${f.key}`}>
          <h2 id={`flag-${f.key}`}>
            {f.key}{' '}
            <span class="muted">
              ({f.type}, {f.valueType})
            </span>
          </h2>
          {f.description && <p>{f.description}</p>}
          <p class="muted">
            Owner {f.owner || '—'} · version {f.version}
          </p>
          <table>
            <caption class="muted">{f.key} per environment</caption>
            <thead>
              <tr>
                <th scope="col">Environment</th>
                <th scope="col">State</th>
                <th scope="col">Rules, in words</th>
                <th scope="col">Kill switch</th>
              </tr>
            </thead>
            <tbody>
              {Object.entries(f.environments as Record<string, Json>).map(([env, state]) => (
                <tr key={env}>
                  <th scope="row">{env}</th>
                  <td>
                    <Badge tone={state.enabled ? 'on' : 'off'}>{state.enabled ? 'on' : 'off'}</Badge>
                  </td>
                  <td>
                    <ol class="rules">
                      {describeEnvironment(state).map((line, i) => (
                        <li key={i}>{line}</li>
                      ))}
                    </ol>
                  </td>
                  <td>
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
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <button
            type="button"
            class="secondary"
            aria-expanded={history === f.key}
            onClick={() => setHistory(history === f.key ? null : f.key)}
          >
            {history === f.key ? 'Hide' : 'Show'} the history of {f.key}
          </button>
          {history === f.key && <AuditTrail flagKey={f.key} />}
        </article>
      ))}
    </section>
  );
}
