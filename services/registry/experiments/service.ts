// Experiment writes that touch more than one entity (the experiment and its flag's managed
// split rule) or need governance checks. Used by the HTTP routes and the YAML import.

import type { Principal } from '../tokens/auth';
import { experimentBodySchema, type ExperimentBody, type ExperimentStatus } from '../core/schemas';
import { deepEqual } from '../core/json-diff';
import { LOCKS, type PoolClient } from '../core/db';
import { conflict, type FieldProblem } from '../core/errors';
import type { Flag, Rule } from '@xp-platform/evaluation';
import {
  DEFINITION_FIELDS,
  currentPhase,
  definitionOf,
  managedRuleId,
  splitRuleFor,
  type DefinitionField,
  type Experiment,
  type ExperimentVariant,
} from './model';
import { conditionProblems } from '../flags/rules';
import {
  COSMETIC_FIELDS,
  allowedTransitions,
  editProblems,
  unmetGuards,
  type AllowedTransition,
} from './lifecycle';
import { existingKeys } from '../http/request';
import { load, update, type Queryable, type Stored } from '../core/entity-store';

/** Problems with an experiment definition that are about references and configuration. */
export async function experimentReferenceProblems(
  client: PoolClient,
  body: Pick<ExperimentBody, 'targeting' | 'environment' | 'owner'>,
  environments: readonly string[],
): Promise<FieldProblem[]> {
  const problems: FieldProblem[] = [];
  // Owners are identities, so approval guards can tell them apart from the approver.
  const { rowCount } = await client.query('SELECT 1 FROM api_tokens WHERE identity = $1 LIMIT 1', [
    body.owner,
  ]);
  if (!rowCount) {
    problems.push({
      path: 'owner',
      message: `unknown identity "${body.owner}": an owner is a person or service that holds a token`,
    });
  }
  if (!environments.includes(body.environment)) {
    problems.push({
      path: 'environment',
      message: `unknown environment (configured: ${environments.join(', ')})`,
    });
  }
  body.targeting.conditions.forEach((c, i) =>
    problems.push(...conditionProblems(c, `targeting.conditions.${i}`)),
  );
  const known = await existingKeys(client, 'segments', body.targeting.segments);
  body.targeting.segments.forEach((s, i) => {
    if (!known.has(s)) problems.push({ path: `targeting.segments.${i}`, message: `unknown segment "${s}"` });
  });
  return problems;
}

/** Definition fields whose value differs between the two experiments. */
export function changedFields(before: Experiment, after: Experiment): DefinitionField[] {
  return DEFINITION_FIELDS.filter((f) => !deepEqual(before[f], after[f]));
}

/** Applies a definition edit, refusing (409) fields the lifecycle freezes. */
export async function editExperiment(
  client: PoolClient,
  current: Stored<Experiment>,
  patch: Partial<ExperimentBody>,
  actor: string,
): Promise<Stored<Experiment>> {
  const merged = experimentBodySchema.parse({ ...definitionOf(current.doc), ...patch, key: current.key });
  const next: Experiment = { ...current.doc, ...merged, seed: merged.seed ?? current.doc.seed };
  const fields = changedFields(current.doc, next);
  if (fields.length === 0) return current;
  if (fields.some((f) => !COSMETIC_FIELDS.includes(f))) next.designChangedBy = actor;
  const refused = editProblems(current.doc, fields);
  if (refused.length > 0) {
    throw conflict('frozen', `cannot edit ${current.key}: ${refused.join('; ')}`, { unmet: refused });
  }
  return update(client, 'experiment', current, next, { actor, action: 'updated' });
}

/**
 * The next statuses of the lifecycle with the guards `principal` does not meet now: what the
 * transition endpoint would answer, computed from the same rules (read-only, no locks).
 */
export async function transitionsFor(
  client: Queryable,
  exp: Experiment,
  principal: Principal,
): Promise<AllowedTransition[]> {
  const flag = exp.flagKey ? await load<Flag>(client, 'flag', exp.flagKey) : null;
  const { rows: running } = await client.query<{ doc: Experiment }>(
    `SELECT doc FROM experiments WHERE status = 'running' AND key <> $1`,
    [exp.key],
  );
  const mayWrite = principal.role === 'editor' || principal.role === 'admin';
  return allowedTransitions(
    exp,
    {
      actor: principal.identity,
      actorKind: principal.kind,
      flag: flag?.doc ?? null,
      running: running.map((r) => ({ key: r.doc.key, layer: r.doc.layer })),
      now: new Date(),
    },
    mayWrite ? undefined : `your role (${principal.role}) may not move experiments: editors and admins do`,
  );
}

export interface TransitionRequest {
  to: ExperimentStatus;
  decision?: 'ship' | 'rollback' | 'iterate';
  summary?: string;
  comment?: string;
}

/** Moves an experiment through its lifecycle, or throws 409 naming every unmet guard. */
export async function transitionExperiment(
  client: PoolClient,
  current: Stored<Experiment>,
  req: TransitionRequest,
  principal: Principal,
): Promise<Stored<Experiment>> {
  const exp = current.doc;
  if (req.to === 'running')
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [...LOCKS.experimentStart]);
  const flag = exp.flagKey ? await load<Flag>(client, 'flag', exp.flagKey, { lock: true }) : null;
  const { rows: running } = await client.query<{ doc: Experiment }>(
    `SELECT doc FROM experiments WHERE status = 'running' AND key <> $1`,
    [exp.key],
  );
  const unmet = unmetGuards(exp, req.to, {
    actor: principal.identity,
    actorKind: principal.kind,
    flag: flag?.doc ?? null,
    running: running.map((r) => ({ key: r.doc.key, layer: r.doc.layer })),
    decision: req.decision,
    summary: req.summary,
    now: new Date(),
  });
  if (unmet.length > 0) {
    throw conflict(
      'guards_unmet',
      `cannot move ${exp.key} from ${exp.status} to ${req.to}: ${unmet.join('; ')}`,
      {
        from: exp.status,
        to: req.to,
        unmet,
      },
    );
  }
  const now = new Date().toISOString();
  const next: Experiment = { ...exp, status: req.to };
  switch (req.to) {
    case 'draft':
      next.approval = null;
      break;
    case 'approved':
      next.approval = { by: principal.identity, at: now, comment: req.comment ?? null };
      break;
    case 'running':
      next.phases = [
        {
          number: 0,
          startedAt: now,
          endedAt: null,
          variants: exp.variants,
          trafficCoverage: exp.trafficCoverage,
          reason: req.comment ?? 'start',
          startedBy: principal.identity,
        },
      ];
      await syncFlagRule(client, flag!, next, principal.identity, 'started');
      break;
    case 'stopped':
      next.phases = endCurrentPhase(exp, now);
      if (flag) await syncFlagRule(client, flag, next, principal.identity, 'stopped');
      break;
    case 'concluded':
      next.decision = req.decision ?? null;
      next.summary = req.summary ?? null;
      break;
  }
  return update(client, 'experiment', current, next, {
    actor: principal.identity,
    action: `transitioned:${req.to}`,
  });
}

function endCurrentPhase(exp: Experiment, now: string) {
  return exp.phases.map((p, i) =>
    i === exp.phases.length - 1 && p.endedAt === null ? { ...p, endedAt: now } : p,
  );
}

/** Starts a new phase of a running experiment: new variants/weights, re-randomised units. */
export async function startPhase(
  client: PoolClient,
  current: Stored<Experiment>,
  req: { reason: string; variants?: ExperimentVariant[]; trafficCoverage?: number },
  principal: Principal,
): Promise<Stored<Experiment>> {
  const exp = current.doc;
  if (exp.status !== 'running') {
    throw conflict('guards_unmet', `a new phase needs a running experiment (${exp.key} is ${exp.status})`, {
      unmet: [`status is ${exp.status}, not running`],
    });
  }
  const flag = await load<Flag>(client, 'flag', exp.flagKey!, { lock: true });
  const now = new Date().toISOString();
  const previous = currentPhase(exp);
  const next: Experiment = {
    ...exp,
    designChangedBy: principal.identity,
    variants: req.variants ?? exp.variants,
    trafficCoverage: req.trafficCoverage ?? exp.trafficCoverage,
  };
  const unmet = unmetGuards({ ...next, status: 'approved' }, 'running', {
    actor: principal.identity,
    actorKind: principal.kind,
    flag: flag?.doc ?? null,
    running: [],
    now: new Date(),
  }).filter((u) => !u.startsWith('endAt'));
  if (unmet.length > 0) {
    throw conflict('guards_unmet', `cannot start a new phase of ${exp.key}: ${unmet.join('; ')}`, { unmet });
  }
  next.phases = [
    ...endCurrentPhase(exp, now),
    {
      number: (previous?.number ?? -1) + 1,
      startedAt: now,
      endedAt: null,
      variants: next.variants,
      trafficCoverage: next.trafficCoverage,
      reason: req.reason,
      startedBy: principal.identity,
    },
  ];
  await syncFlagRule(client, flag!, next, principal.identity, `phase:${next.phases.length - 1}`);
  return update(client, 'experiment', current, next, {
    actor: principal.identity,
    action: `new_phase:${currentPhase(next)!.number}`,
  });
}

/**
 * Keeps the flag's managed rule `exp:<key>` in step with the experiment: present with the
 * current phase while running (replaced in place, else appended), absent otherwise.
 */
async function syncFlagRule(
  client: PoolClient,
  flag: Stored<Flag>,
  exp: Experiment,
  actor: string,
  what: string,
): Promise<void> {
  const id = managedRuleId(exp.key);
  const env = flag.doc.environments[exp.environment];
  if (!env) return;
  const phase = currentPhase(exp);
  let rules: Rule[] = env.rules.filter((r) => r.id !== id);
  if (exp.status === 'running' && phase) {
    const rule = splitRuleFor(exp, phase);
    const at = env.rules.findIndex((r) => r.id === id);
    rules = at >= 0 ? env.rules.map((r) => (r.id === id ? rule : r)) : [...env.rules, rule];
  }
  const next: Flag = {
    ...flag.doc,
    environments: { ...flag.doc.environments, [exp.environment]: { ...env, rules } },
  };
  if (deepEqual(next, flag.doc)) return;
  await update(client, 'flag', flag, next, { actor, action: `experiment:${exp.key}:${what}` });
}
