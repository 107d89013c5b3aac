// Ideas (the ranked backlog) and the experiments list (with each one's health badge). The
// experiment page is experiment.tsx, flags are flags.tsx.
import { useState } from 'preact/hooks';
import { api, canWrite, type Json, type Me } from './api';
import { useLoad } from './load';
import { Badge, NoticeBox, PageTitle, date, errorText, type Notice } from './ui';

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

const HEALTH_TONES: Record<string, string> = {
  healthy: 'on',
  srm: 'off',
  'guardrail-harmed': 'off',
  'multiple-exposures': 'warn',
  underpowered: 'warn',
  'no-data': '',
};

export function ExperimentsPage() {
  const [data, error] = useLoad(() => api('GET', '/v1/experiments'), []);
  const [filter, setFilter] = useState('');
  const shown = ((data?.experiments ?? []) as Json[]).filter((x) =>
    `${x.key} ${x.name} ${x.owner} ${x.status}`.toLowerCase().includes(filter.trim().toLowerCase()),
  );
  return (
    <section>
      <PageTitle>Experiments</PageTitle>
      <NoticeBox notice={error ? { kind: 'error', text: error } : null} />
      <label for="experiments-filter">Filter (key, name, owner or status)</label>
      <input
        id="experiments-filter"
        type="search"
        value={filter}
        onInput={(e) => setFilter((e.target as HTMLInputElement).value)}
      />
      <table>
        <caption class="muted">
          {shown.length} of {data?.experiments.length ?? 0} experiments; health from the latest results
          snapshot
        </caption>
        <thead>
          <tr>
            <th scope="col">Experiment</th>
            <th scope="col">Status</th>
            <th scope="col">Health</th>
            <th scope="col">Owner</th>
            <th scope="col">Started</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((x) => (
            <tr key={x.key}>
              <td>
                <a href={`#/experiments/${encodeURIComponent(x.key)}`}>{x.name}</a>{' '}
                <span class="muted">({x.key})</span>
              </td>
              <td>
                <Badge>{x.status}</Badge>
              </td>
              <td>
                {x.health && (
                  <>
                    <Badge tone={HEALTH_TONES[x.health.state]}>{x.health.label}</Badge>
                    {x.health.problems.length > 1 && (
                      <div class="muted">{x.health.problems.slice(1).join('; ')}</div>
                    )}
                  </>
                )}
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
