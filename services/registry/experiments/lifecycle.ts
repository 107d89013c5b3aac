// Experiment lifecycle guards, pure: given an experiment, a target status and the context
// the server looked up, the list of every unmet guard (empty: the transition may happen).
//
//   draft → in_review → approved → running → stopped → concluded → archived
//     ↑________|___________|                                          ↑
//   draft ────────────────────────────────────────────────────────────┘ (abandon)

import type { Flag } from '@xp-platform/evaluation';
import { deepEqual } from '../core/json-diff';
import { valueMatchesType } from '../flags/rules';
import type { DefinitionField, Experiment, ExperimentStatus } from './model';

export const TRANSITIONS: Record<ExperimentStatus, readonly ExperimentStatus[]> = {
  draft: ['in_review', 'archived'],
  in_review: ['approved', 'draft'],
  approved: ['running', 'draft'],
  running: ['stopped'],
  stopped: ['concluded'],
  concluded: ['archived'],
  archived: [],
};

export interface GuardContext {
  /** The identity (person or service) asking for the transition. */
  actor: string;
  /** Only people approve; services (automation, SDK back ends) do not. */
  actorKind: 'person' | 'service';
  /** The flag named by experiment.flagKey, if it exists. */
  flag: Flag | null;
  /** Other running experiments (their key and layer), for mutual exclusion. */
  running: Pick<Experiment, 'key' | 'layer'>[];
  decision?: string;
  summary?: string;
  now: Date;
}

export function unmetGuards(exp: Experiment, to: ExperimentStatus, ctx: GuardContext): string[] {
  const from = exp.status;
  if (!TRANSITIONS[from].includes(to)) {
    const allowed = TRANSITIONS[from];
    return [
      `cannot go from ${from} to ${to}` +
        (allowed.length > 0 ? ` (from ${from}: ${allowed.join(', ')})` : ` (${from} is final)`),
    ];
  }
  switch (to) {
    case 'in_review':
      return definitionProblems(exp);
    case 'approved': {
      const unmet = definitionProblems(exp);
      if (ctx.actor === exp.owner) {
        unmet.push(`approval must come from someone other than the owner (${exp.owner})`);
      }
      if (exp.designChangedBy !== undefined && ctx.actor === exp.designChangedBy && ctx.actor !== exp.owner) {
        unmet.push(
          `approval must come from someone other than whoever last changed the design (${exp.designChangedBy})`,
        );
      }
      if (ctx.actorKind !== 'person') {
        unmet.push(`approval must come from a person; ${ctx.actor} is a service`);
      }
      return unmet;
    }
    case 'running':
      return [...definitionProblems(exp), ...wiringProblems(exp, ctx)];
    case 'concluded':
      return inputProblems(to, ctx);
    default:
      return [];
  }
}

/** What the request itself must carry for a transition (concluding: a decision and a summary). */
export const TRANSITION_INPUTS: Partial<Record<ExperimentStatus, readonly ('decision' | 'summary')[]>> = {
  concluded: ['decision', 'summary'],
};

function inputProblems(to: ExperimentStatus, ctx: Pick<GuardContext, 'decision' | 'summary'>): string[] {
  const unmet: string[] = [];
  if (to !== 'concluded') return unmet;
  if (!['ship', 'rollback', 'iterate'].includes(ctx.decision ?? '')) {
    unmet.push('concluding needs a decision: ship, rollback or iterate');
  }
  if (!ctx.summary?.trim()) unmet.push('concluding needs a summary of the results');
  return unmet;
}

export interface AllowedTransition {
  to: ExperimentStatus;
  /** True when no guard of the experiment's state refuses the caller (inputs aside). */
  allowed: boolean;
  /** Every unmet guard for this caller, the reasons the API would give. */
  unmet: string[];
  /** Fields the transition request must carry (e.g. decision and summary to conclude). */
  inputs: readonly string[];
}

/**
 * Each next status of the lifecycle with the guards the caller does not meet now, as the
 * transition endpoint would check them (inputs the request carries are listed, not judged).
 * `roleProblem` is set when the caller's role may not move experiments at all.
 */
export function allowedTransitions(
  exp: Experiment,
  ctx: Omit<GuardContext, 'decision' | 'summary'>,
  roleProblem?: string,
): AllowedTransition[] {
  return TRANSITIONS[exp.status].map((to) => {
    const inputs = TRANSITION_INPUTS[to] ?? [];
    const unmet = [
      ...(roleProblem ? [roleProblem] : []),
      ...(to === 'concluded' ? [] : unmetGuards(exp, to, ctx)),
    ];
    return { to, allowed: unmet.length === 0, unmet, inputs };
  });
}

/** What a reviewable experiment must have. */
export function definitionProblems(exp: Experiment): string[] {
  const unmet: string[] = [];
  if (!exp.hypothesis.trim()) unmet.push('a hypothesis is required');
  if (exp.primaryMetrics.length === 0) unmet.push('at least one primary metric is required');
  if (exp.variants.length < 2) unmet.push('at least two variants are required');
  const keys = exp.variants.map((v) => v.key);
  if (new Set(keys).size !== keys.length) unmet.push('variant keys must be unique');
  if (exp.variants.some((v) => !(v.weight > 0))) unmet.push('every variant needs a positive weight');
  if (!(exp.trafficCoverage > 0)) unmet.push('traffic coverage must be above 0');
  if (exp.type === 'aa' && exp.variants.some((v) => !deepEqual(v.value, exp.variants[0]!.value))) {
    unmet.push('an A/A experiment serves the same value in every variant');
  }
  if (exp.startAt && exp.endAt && Date.parse(exp.endAt) <= Date.parse(exp.startAt)) {
    unmet.push('endAt must be after startAt');
  }
  return unmet;
}

/** Running needs the experiment wired to an existing flag that can serve its variants. */
function wiringProblems(exp: Experiment, ctx: GuardContext): string[] {
  const unmet: string[] = [];
  if (!exp.flagKey) {
    unmet.push('the experiment is not wired to a flag: set flagKey');
  } else if (!ctx.flag) {
    unmet.push(`flag "${exp.flagKey}" does not exist`);
  } else {
    const flag = ctx.flag;
    if (!flag.environments[exp.environment]) {
      unmet.push(`flag "${flag.key}" has no environment ${exp.environment}`);
    }
    const wrong = exp.variants.filter((v) => !valueMatchesType(v.value, flag.valueType));
    if (wrong.length > 0) {
      unmet.push(
        `variants ${wrong.map((v) => v.key).join(', ')} do not serve a ${flag.valueType} (the type of flag "${flag.key}")`,
      );
    }
  }
  if (exp.layer) {
    const { key, start, end } = exp.layer;
    for (const other of ctx.running) {
      if (other.key === exp.key || !other.layer || other.layer.key !== key) continue;
      if (start < other.layer.end && other.layer.start < end) {
        unmet.push(
          `layer ${key}: range [${start}, ${end}) overlaps running experiment "${other.key}" [${other.layer.start}, ${other.layer.end})`,
        );
      }
    }
  }
  if (exp.endAt && Date.parse(exp.endAt) <= ctx.now.getTime())
    unmet.push(`endAt ${exp.endAt} is in the past`);
  return unmet;
}

const ALWAYS_EDITABLE: readonly DefinitionField[] = ['name', 'description', 'tags'];
/** Fields that describe an experiment without changing its design (a reviewer may fix them). */
export const COSMETIC_FIELDS = ALWAYS_EDITABLE;

/**
 * Why changing `fields` is refused in the experiment's current status (empty: allowed).
 * Reviewed definitions are frozen (send it back to draft to edit); while running, variants
 * and weights change only through a new phase.
 */
export function editProblems(exp: Experiment, fields: readonly DefinitionField[]): string[] {
  const blocked = (allowed: readonly DefinitionField[]) => fields.filter((f) => !allowed.includes(f));
  switch (exp.status) {
    case 'draft':
      return [];
    case 'in_review':
    case 'approved': {
      const b = blocked(ALWAYS_EDITABLE);
      return b.length
        ? [`${b.join(', ')} cannot change while ${exp.status}: move the experiment back to draft first`]
        : [];
    }
    case 'running': {
      const b = blocked([...ALWAYS_EDITABLE, 'endAt']);
      const frozen = b.filter((f) => f === 'variants' || f === 'trafficCoverage');
      const other = b.filter((f) => f !== 'variants' && f !== 'trafficCoverage');
      return [
        ...(frozen.length
          ? [
              `${frozen.join(', ')} are frozen while running: start a new phase (POST /v1/experiments/${exp.key}/phases)`,
            ]
          : []),
        ...(other.length ? [`${other.join(', ')} cannot change while running`] : []),
      ];
    }
    case 'stopped':
    case 'concluded': {
      const b = blocked(ALWAYS_EDITABLE);
      return b.length ? [`${b.join(', ')} cannot change once ${exp.status}`] : [];
    }
    case 'archived':
      return fields.length ? ['an archived experiment cannot change'] : [];
  }
}
