// The experiment editor: the design as a form, saved with PATCH and If-Match; a refusal shows the
// API's reason at the field it names (metrics are stored per role, the form lists them together).
import { useState } from 'preact/hooks';
import { ApiError, api, type FieldProblem, type Json } from './api';
import { useLoad } from './load';
import { errorText } from './ui';

export const ROLES = ['primary', 'secondary', 'guardrail'] as const;
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
  /** Lower is better (errors, latency): a rise is the harmful direction. */
  inverse: boolean;
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
        inverse: m.inverse === true,
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
      .map((m) => ({
        event: m.event,
        aggregation: m.aggregation,
        ...(m.name ? { name: m.name } : {}),
        ...(m.inverse ? { inverse: true } : {}),
      }));
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

export function Editor({
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
                <label for={`metric-${i}-inverse`}>
                  <input
                    id={`metric-${i}-inverse`}
                    type="checkbox"
                    checked={m.inverse}
                    onChange={(e) =>
                      setForm({
                        ...form,
                        metrics: form.metrics.map((x, j) =>
                          j === i ? { ...x, inverse: (e.target as HTMLInputElement).checked } : x,
                        ),
                      })
                    }
                  />{' '}
                  Metric {i + 1}: lower is better
                </label>
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
                  inverse: false,
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
