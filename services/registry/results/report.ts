// The results report: the decision in one sentence, per metric the effect with its interval and
// chance to win, the health checks, the learnings, then the brief (purpose, design, history).
// One document model, rendered as JSON or Markdown (and HTML from the Markdown). Pure.
import type { ResultsSummary } from '../../common/results-summary';
import type { Experiment } from '../experiments/model';
import type { AuditEntry } from '../audit/store';
import { renderBrief } from '../experiments/brief';

export interface ReportDocument {
  experiment: {
    key: string;
    name: string;
    status: string;
    owner: string;
    hypothesis: string;
    decision: string | null;
    /** What the owner wrote when concluding (the conclusion's summary). */
    learnings: string | null;
  };
  /** Which results the report shows: the ones frozen at conclusion, else the latest. */
  source: 'final' | 'latest' | 'none';
  results: ResultsSummary | null;
  log: AuditEntry[];
}

export function reportDocument(
  exp: Experiment,
  latest: ResultsSummary | null,
  final: ResultsSummary | null,
  log: AuditEntry[],
): ReportDocument {
  const results = final ?? latest;
  return {
    experiment: {
      key: exp.key,
      name: exp.name,
      status: exp.status,
      owner: exp.owner,
      hypothesis: exp.hypothesis,
      decision: exp.decision,
      learnings: exp.summary,
    },
    source: final ? 'final' : latest ? 'latest' : 'none',
    results,
    log,
  };
}

const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const pct = (x: number | null, signed = true) =>
  x === null ? '—' : `${signed && x > 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
const p = (x: number | null) => (x === null ? '—' : x < 0.0001 ? '< 0.0001' : x.toFixed(4));
const num = (x: number | null) => (x === null ? '—' : Number(x.toPrecision(4)).toString());

function interval(lo: number | null, hi: number | null): string {
  if (lo === null && hi === null) return '—';
  return `${lo === null ? '-∞' : pct(lo)} to ${hi === null ? '+∞' : pct(hi)}`;
}

export function renderReportMarkdown(doc: ReportDocument, exp: Experiment): string {
  const out: string[] = [];
  const push = (...l: string[]) => out.push(...l);
  const r = doc.results;
  push(`# Results: ${exp.name} (\`${exp.key}\`)`, '');
  if (!r) {
    push('_No results yet: the results service has not recorded a snapshot for this experiment._', '');
  } else {
    const level = `${Math.round((1 - r.settings.alpha) * 100)}%`;
    push(`> **${r.decision.sentence}**`, '');
    push(
      `Phase ${r.phase} · snapshot ${r.snapshotAt}${doc.source === 'final' ? ' (final, frozen at conclusion)' : ''} · ` +
        `${r.settings.engine} engine${r.settings.sequential ? ', sequential' : ''}${r.settings.cuped ? ', CUPED' : ''}` +
        `${r.settings.correction ? `, ${r.settings.correction} correction` : ''} · α = ${r.settings.alpha}`,
      '',
    );
    push('## Health checks', '');
    const srm = r.health.srm;
    push(
      `- Sample-ratio mismatch: ${srm.warning ? '**warning**' : 'ok'} (p = ${p(srm.pValue)}; units ${r.variants
        .map((v) => `${esc(v.variationId)} ${v.units}`)
        .join(', ')}; weights ${r.variants.map((v) => v.weight).join(' / ')})`,
    );
    const me = r.health.multipleExposures;
    push(
      `- Multiple exposures: ${me.warning ? '**warning**' : 'ok'} (${me.units} units saw several variants, ${pct(me.share, false)} of exposed units; left out)`,
    );
    const pw = r.health.power;
    push(
      `- Power: ${pw.observed === null ? 'not available yet' : `${pct(pw.observed, false)} for the observed effect`}` +
        `${pw.detectableEffect === null ? '' : `; detectable effect about ${pct(pw.detectableEffect, false)}`}` +
        `${pw.underpowered ? ' — **underpowered**: a null result does not rule out a worthwhile effect' : ''}`,
      '',
    );
    push('## Metrics', '');
    push(
      `| metric | role | variant | units | mean | lift | ${level} interval | p-value | chance to win | |`,
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    );
    for (const m of r.metrics) {
      for (const v of m.variants) {
        const c = m.comparisons.find((x) => x.variationId === v.variationId);
        const flag = c
          ? c.guardrailFailed
            ? '**guardrail fails**'
            : c.error
              ? esc(c.error.toLowerCase().replace(/_/g, ' '))
              : c.significant
                ? '**significant**'
                : ''
          : 'baseline';
        push(
          `| ${esc(m.id)}${m.inverse ? ' (lower is better)' : ''} | ${m.role} | ${esc(v.variationId)} | ${v.units} | ${num(v.mean)} | ${c ? pct(c.lift) : '—'} | ${
            c ? interval(c.liftCiLower, c.liftCiUpper) : '—'
          } | ${c ? p(c.pValueAdjusted ?? c.pValue) : '—'} | ${c ? pct(c.chanceToWin, false) : '—'} | ${flag} |`,
        );
      }
    }
    push('');
  }
  push('## Learnings', '');
  push(
    doc.experiment.decision ? `**Decision: ${doc.experiment.decision}**` : '_Not concluded yet._',
    '',
    doc.experiment.learnings?.trim() || '_The owner writes the learnings when concluding the experiment._',
    '',
  );
  push('---', '');
  // The brief carries purpose, hypothesis, design and the experiment log.
  push(renderBrief(exp, doc.log));
  return out.join('\n');
}
