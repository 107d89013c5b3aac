import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppDeps } from '../app';
import type { SegmentBody } from '../core/schemas';
import { authorize, principalOf } from '../tokens/auth';
import type { PoolClient } from '../core/db';
import { HttpError, badRequest, conflict } from '../core/errors';
import type { Flag } from '@xp-platform/evaluation';
import { newExperiment, type Experiment } from '../experiments/model';
import { editExperiment, experimentReferenceProblems } from '../experiments/service';
import { insert, list, load, update } from '../core/entity-store';
import {
  ConfigParseError,
  exportConfig,
  parseConfig,
  planImport,
  type ConfigSet,
  type ImportPlan,
} from './yaml';
import { checkFlag } from '../flags/routes';
import { failIfProblems } from '../http/request';

const tags = ['config as code'];

/** Rolls a dry run's transaction back after everything was applied and checked. */
class DryRun extends Error {}

export function configAsCodeRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { pool } = deps;
  const environments = deps.config.REGISTRY_ENVIRONMENTS;

  app.get(
    '/v1/config/export',
    {
      onRequest: authorize(deps.tokens, 'read'),
      schema: { tags, summary: 'Every flag, segment and experiment definition as YAML (the full form)' },
    },
    async (_request, reply) => {
      const [segments, flags, experiments] = await Promise.all([
        list<SegmentBody>(pool, 'segment'),
        list<Flag>(pool, 'flag'),
        list<Experiment>(pool, 'experiment'),
      ]);
      const text = exportConfig({
        segments: segments.map((s) => s.doc),
        flags: flags.map((f) => f.doc),
        experiments: experiments.map((e) => e.doc),
      });
      return reply.type('application/yaml; charset=utf-8').send(text);
    },
  );

  app.post(
    '/v1/config/import',
    {
      onRequest: authorize(deps.tokens, 'write'),
      schema: {
        tags,
        summary:
          'Import YAML (plain or full form); dryRun shows the diff and checks everything without applying',
        body: z.strictObject({ yaml: z.string(), dryRun: z.boolean().default(false) }),
      },
    },
    async (request) => {
      const { yaml, dryRun } = request.body as { yaml: string; dryRun: boolean };
      let incoming: ConfigSet;
      try {
        incoming = parseConfig(yaml, environments);
      } catch (err) {
        if (err instanceof ConfigParseError)
          throw badRequest(`invalid configuration: ${err.message}`, err.problems);
        throw err;
      }
      const actor = principalOf(request).identity;
      let plan: ImportPlan | undefined;
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        // Writers wait while an import plans and applies, so the plan is what gets applied.
        await client.query('LOCK TABLE segments, flags, experiments IN SHARE ROW EXCLUSIVE MODE');
        plan = await applyImport(client, incoming, actor, environments);
        if (dryRun) throw new DryRun();
        if (plan.conflicts.length > 0) {
          throw conflict(
            'frozen',
            `import refused: ${plan.conflicts.map((c) => `${c.key}: ${c.problems.join('; ')}`).join(' | ')}`,
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
    },
  );
}

/** Plans, then applies every change through the normal write path (audit, outbox, notify). */
async function applyImport(
  client: PoolClient,
  incoming: ConfigSet,
  actor: string,
  environments: readonly string[],
): Promise<ImportPlan> {
  const [segments, flags, experiments] = await Promise.all([
    list<SegmentBody>(client, 'segment'),
    list<Flag>(client, 'flag'),
    list<Experiment>(client, 'experiment'),
  ]);
  const plan = planImport(
    {
      segments: segments.map((s) => s.doc),
      flags: flags.map((f) => f.doc),
      experiments: experiments.map((e) => e.doc),
    },
    incoming,
  );
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
    if (s === 'visiting')
      throw new HttpError(400, 'validation_failed', `prerequisite cycle through flag "${f.key}"`);
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
