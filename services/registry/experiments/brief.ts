// The experiment brief: one Markdown page for reviewers and stakeholders. Pure.

import type { AuditEntry } from '../audit/store';
import type { Experiment } from './model';

const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const show = (v: unknown) => '`' + JSON.stringify(v) + '`';

export function renderBrief(exp: Experiment, history: AuditEntry[]): string {
  const lines: string[] = [];
  const push = (...l: string[]) => lines.push(...l);
  push(`# ${exp.name} (\`${exp.key}\`)`, '');
  push(
    `**Status:** ${exp.status} · **Type:** ${exp.type === 'aa' ? 'A/A' : 'A/B'} · **Owner:** ${exp.owner}`,
    '',
  );
  push('## Purpose', '', exp.description.trim() || '_No description._', '');
  push('## Hypothesis', '', exp.hypothesis.trim() || '_No hypothesis yet._', '');
  push('## Metrics', '', '| role | event | aggregation |', '| --- | --- | --- |');
  const row = (role: string, m: (typeof exp.primaryMetrics)[number]) =>
    push(
      `| ${role} | ${esc(m.name ?? m.event)} (\`${m.event}\`)${m.inverse ? ', lower is better' : ''} | ${m.aggregation} |`,
    );
  for (const m of exp.primaryMetrics) row('primary', m);
  // Stored experiments from before secondary metrics existed have none.
  for (const m of exp.secondaryMetrics ?? []) row('secondary', m);
  for (const m of exp.guardrailMetrics) row('guardrail', m);
  if (exp.primaryMetrics.length + (exp.secondaryMetrics ?? []).length + exp.guardrailMetrics.length === 0)
    push('| — | — | — |');
  push(`\nAttribution window: ${exp.attributionWindowHours} hours after first exposure.`, '');
  push('## Audience', '');
  push(`- Flag: ${exp.flagKey ? `\`${exp.flagKey}\`` : '_not wired yet_'} in ${exp.environment}`);
  push(
    `- Traffic coverage: ${fmtPct(exp.trafficCoverage)}, bucketed on \`${exp.hashAttribute}\` (seed \`${exp.seed}\`)`,
  );
  if (exp.targeting.conditions.length === 0 && exp.targeting.segments.length === 0)
    push('- Targeting: everyone');
  for (const c of exp.targeting.conditions) {
    push(`- Targeting: \`${c.attribute}\` ${c.operator}${c.value === undefined ? '' : ` ${show(c.value)}`}`);
  }
  for (const s of exp.targeting.segments) push(`- Segment: \`${s}\``);
  if (exp.layer) {
    push(`- Mutual-exclusion layer \`${exp.layer.key}\`: range [${exp.layer.start}, ${exp.layer.end})`);
  }
  push('', '## Variants', '', '| variant | weight | share | value |', '| --- | --- | --- | --- |');
  const total = exp.variants.reduce((a, v) => a + v.weight, 0) || 1;
  for (const v of exp.variants) {
    push(
      `| ${esc(v.name ?? v.key)} (\`${v.key}\`) | ${v.weight} | ${fmtPct(v.weight / total)} | ${esc(show(v.value))} |`,
    );
  }
  push('', '## Dates', '');
  push(`- Planned: ${exp.startAt ?? 'not set'} → ${exp.endAt ?? 'not set'}`);
  for (const p of exp.phases) {
    push(
      `- Phase ${p.number}: ${p.startedAt} → ${p.endedAt ?? 'now'} (${esc(p.reason)}; coverage ${fmtPct(p.trafficCoverage)})`,
    );
  }
  if (exp.approval) push(`- Approved by ${exp.approval.by} at ${exp.approval.at}`);
  if (exp.decision) {
    push('', '## Decision', '', `**${exp.decision}**`, '', exp.summary ?? '');
  }
  push('', '## History', '', '| when | who | what |', '| --- | --- | --- |');
  for (const e of [...history].reverse()) push(`| ${e.at} | ${esc(e.actor)} | ${esc(e.action)} |`);
  return lines.join('\n') + '\n';
}

function fmtPct(x: number): string {
  return `${Math.round(x * 10_000) / 100}%`;
}
