// What can happen to an experiment: creation, definition edits (the lifecycle freezes some
// fields), lifecycle transitions and new phases. Writes that touch the experiment's flag (its
// managed split rule) change both in one transaction. Used by the HTTP routes, the YAML import
// and idea promotion.

import type { Flag, Rule } from '@xp-platform/evaluation';
import { LOCKS, withTransaction, type Pool, type PoolClient } from '../core/db';
import {
  changeLocked,
  existingKeys,
  insert,
  list,
  load,
  loadOrThrow,
  present,
  update,
  type Queryable,
  type Stored,
} from '../core/entity-store';
import { conditionProblems } from '../core/conditions';
import { ERR, failIfProblems, type FieldProblem } from '../core/errors';
import { deepEqual } from '../core/json-diff';
import type { Principal } from '../tokens/model';
import { identityExists } from '../tokens/store';
import {
  COSMETIC_FIELDS,
  allowedTransitions,
  editProblems,
  unmetGuards,
  type AllowedTransition,
} from './lifecycle';
import {
  DEFINITION_FIELDS,
  currentPhase,
  definitionOf,
  experimentBodySchema,
  managedRuleId,
  newExperiment,
  splitRuleFor,
  type DefinitionField,
  type Experiment,
  type ExperimentBody,
  type ExperimentStatus,
  type ExperimentVariant,
} from './model';
import { runningExperiments } from './store';
import { experimentHealth } from '../results/health';
import { latestSummaries } from '../results/store';

/** Problems with an experiment definition that are about references and configuration. */
export async function experimentReferenceProblems(
  client: PoolClient,
  body: Pick<ExperimentBody, 'targeting' | 'environment' | 'owner'>,
  environments: readonly string[],
): Promise<FieldProblem[]> {
  const problems: FieldProblem[] = [];
  // Owners are identities, so approval guards can tell them apart from the approver.
  if (!(await identityExists(client, body.owner))) {
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
  const known = await existingKeys(client, 'segment', body.targeting.segments);
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
    throw ERR.FROZEN({ key: current.key, reasons: refused.join('; ') }, { unmet: refused });
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
  const running = await runningExperiments(client, exp.key);
  const mayWrite = principal.role === 'editor' || principal.role === 'admin';
  return allowedTransitions(
    exp,
    {
      actor: principal.identity,
      actorKind: principal.kind,
      flag: flag?.doc ?? null,
      running,
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
  const running = await runningExperiments(client, exp.key);
  const unmet = unmetGuards(exp, req.to, {
    actor: principal.identity,
    actorKind: principal.kind,
    flag: flag?.doc ?? null,
    running,
    decision: req.decision,
    summary: req.summary,
    now: new Date(),
  });
  if (unmet.length > 0) {
    throw ERR.GUARDS_UNMET(
      { key: exp.key, from: exp.status, to: req.to, unmet: unmet.join('; ') },
      { from: exp.status, to: req.to, unmet },
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
    throw ERR.PHASE_NOT_RUNNING(
      { key: exp.key, status: exp.status },
      { unmet: [`status is ${exp.status}, not running`] },
    );
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
    throw ERR.PHASE_GUARDS_UNMET({ key: exp.key, unmet: unmet.join('; ') }, { unmet });
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

export async function createExperiment(
  pool: Pool,
  body: ExperimentBody,
  environments: readonly string[],
  actor: string,
): Promise<Stored<Experiment>> {
  return withTransaction(pool, async (client) => {
    failIfProblems('experiment', await experimentReferenceProblems(client, body, environments));
    return insert(client, 'experiment', body.key, newExperiment(body, actor), { actor, action: 'created' });
  });
}

/** PATCH: the definition fields sent change, if the references hold and the lifecycle allows. */
export async function patchExperiment(
  pool: Pool,
  key: string,
  patch: Partial<ExperimentBody>,
  expected: number | undefined,
  environments: readonly string[],
  actor: string,
): Promise<Stored<Experiment>> {
  return changeLocked(pool, 'experiment', key, expected, async (client, current: Stored<Experiment>) => {
    const merged = { ...current.doc, ...patch };
    failIfProblems('experiment', await experimentReferenceProblems(client, merged, environments));
    return editExperiment(client, current, patch, actor);
  });
}

/** A transition; the version is optional (a transition is checked against the current state anyway). */
export async function transition(
  pool: Pool,
  key: string,
  req: TransitionRequest,
  expected: number | undefined,
  principal: Principal,
): Promise<Stored<Experiment>> {
  return changeLocked(
    pool,
    'experiment',
    key,
    expected,
    async (client, current: Stored<Experiment>) => {
      return transitionExperiment(client, current, req, principal);
    },
    { versionOptional: true },
  );
}

export async function newPhase(
  pool: Pool,
  key: string,
  req: { reason: string; variants?: ExperimentVariant[]; trafficCoverage?: number },
  expected: number | undefined,
  principal: Principal,
): Promise<Stored<Experiment>> {
  return changeLocked(
    pool,
    'experiment',
    key,
    expected,
    async (client, current: Stored<Experiment>) => {
      return startPhase(client, current, req, principal);
    },
    { versionOptional: true },
  );
}

/** The experiments (of one status, if given), each with its health from the latest results summary. */
export async function listExperiments(pool: Pool, status?: string) {
  const [all, latest] = await Promise.all([list<Experiment>(pool, 'experiment'), latestSummaries(pool)]);
  return all
    .filter((e) => !status || e.doc.status === status)
    .map((e) => ({ ...present(e), health: experimentHealth(latest.get(e.key) ?? null) }));
}

/** An experiment with allowedTransitions: each next status and the guards the caller does not meet now. */
export async function experimentFor(pool: Pool, key: string, principal: Principal) {
  const stored = await loadOrThrow<Experiment>(pool, 'experiment', key);
  const allowedTransitions = await transitionsFor(pool, stored.doc, principal);
  return { stored, allowedTransitions };
}
