// Config as code against the database: export every definition as YAML, and import a YAML
// document (plan, check, apply through the normal write path, or roll back for a dry run).

import type { Flag } from '@xp-platform/evaluation';
import type { Pool, PoolClient } from '../core/db';
import { insert, list, load, update, type Queryable } from '../core/entity-store';
import { ERR, failIfProblems } from '../core/errors';
import { newExperiment, type Experiment } from '../experiments/model';
import { editExperiment, experimentReferenceProblems } from '../experiments/service';
import { checkFlag } from '../flags/service';
import type { SegmentBody } from '../segments/model';
import {
  ConfigParseError,
  exportConfig,
  parseConfig,
  planImport,
  type ConfigSet,
  type ImportPlan,
} from './yaml';

/** Rolls a dry run's transaction back after everything was applied and checked. */
class DryRun extends Error {}

/** What the registry holds now: every segment, flag and experiment (with its governance state). */
async function current(
  q: Queryable,
): Promise<{ segments: SegmentBody[]; flags: Flag[]; experiments: Experiment[] }> {
  const [segments, flags, experiments] = await Promise.all([
    list<SegmentBody>(q, 'segment'),
    list<Flag>(q, 'flag'),
    list<Experiment>(q, 'experiment'),
  ]);
  return {
    segments: segments.map((s) => s.doc),
    flags: flags.map((f) => f.doc),
    experiments: experiments.map((e) => e.doc),
  };
}

/** Every flag, segment and experiment definition as YAML (the full form). */
export async function exportYaml(pool: Pool): Promise<string> {
  return exportConfig(await current(pool));
}

export type ImportResult = { dryRun: boolean; applied: boolean } & ImportPlan;

/** Imports a YAML document (plain or full form); a dry run checks everything, then rolls back. */
export async function importYaml(
  pool: Pool,
  yaml: string,
  dryRun: boolean,
  actor: string,
  environments: readonly string[],
): Promise<ImportResult> {
  let incoming: ConfigSet;
  try {
    incoming = parseConfig(yaml, environments);
  } catch (err) {
    if (err instanceof ConfigParseError) throw ERR.INVALID_CONFIG({ reason: err.message }, err.problems);
    throw err;
  }
  let plan: ImportPlan | undefined;
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // Writers wait while an import plans and applies, so the plan is what gets applied.
    await client.query('LOCK TABLE segments, flags, experiments IN SHARE ROW EXCLUSIVE MODE');
    plan = await applyImport(client, incoming, actor, environments);
    if (dryRun) throw new DryRun();
    if (plan.conflicts.length > 0) {
      throw ERR.IMPORT_REFUSED(
        { conflicts: plan.conflicts.map((c) => `${c.key}: ${c.problems.join('; ')}`).join(' | ') },
        plan,
      );
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    if (!(err instanceof DryRun)) throw err;
  } finally {
    client.release();
  }
  return { dryRun, applied: !dryRun, ...plan! };
}

/** Plans, then applies every change through the normal write path (audit, outbox, notify). */
async function applyImport(
  client: PoolClient,
  incoming: ConfigSet,
  actor: string,
  environments: readonly string[],
): Promise<ImportPlan> {
  const plan = planImport(await current(client), incoming);
  if (plan.conflicts.length > 0) return plan;
  const planned = new Set(plan.changes.map((c) => `${c.entityType}:${c.key}`));
  const meta = (action: string) => ({ actor, action });
  for (const s of incoming.segments) {
    if (!planned.has(`segment:${s.key}`)) continue;
    const current = await load<SegmentBody>(client, 'segment', s.key);
    if (current) await update(client, 'segment', current, s, meta('updated'));
    else await insert(client, 'segment', s.key, s, meta('created'));
  }
  for (const f of dependencyOrder(incoming.flags)) {
    if (!planned.has(`flag:${f.key}`)) continue;
    const current = await load<Flag>(client, 'flag', f.key);
    await checkFlag(client, f, environments, current?.doc);
    if (current) await update(client, 'flag', current, f, meta('updated'));
    else await insert(client, 'flag', f.key, f, meta('created'));
  }
  for (const e of incoming.experiments) {
    if (!planned.has(`experiment:${e.key}`)) continue;
    failIfProblems(`experiment ${e.key}`, await experimentReferenceProblems(client, e, environments));
    const current = await load<Experiment>(client, 'experiment', e.key);
    if (current) {
      const { key: _k, ...definition } = e;
      await editExperiment(client, current, definition, actor);
    } else {
      await insert(client, 'experiment', e.key, newExperiment(e, actor), meta('created'));
    }
  }
  return plan;
}

/** Flags after the flags they require, so prerequisite checks see them. */
function dependencyOrder(flags: Flag[]): Flag[] {
  const byKey = new Map(flags.map((f) => [f.key, f]));
  const out: Flag[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (f: Flag) => {
    const s = state.get(f.key);
    if (s === 'done') return;
    if (s === 'visiting') throw ERR.PREREQUISITE_CYCLE({ flag: f.key });
    state.set(f.key, 'visiting');
    for (const p of f.prerequisites ?? []) {
      const dep = byKey.get(p.flag);
      if (dep) visit(dep);
    }
    state.set(f.key, 'done');
    out.push(f);
  };
  flags.forEach(visit);
  return out;
}
