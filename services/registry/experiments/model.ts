// The stored experiment: its definition (what config as code carries) plus governance
// state the server manages (status, approval, phases, decision).

import type { Decision, ExperimentBody, ExperimentStatus } from '../core/schemas';
import type { Rule } from '@xp-platform/evaluation';

export type ExperimentVariant = ExperimentBody['variants'][number];

/** A period with fixed variants and weights. A new phase re-randomises units (new salt). */
export interface Phase {
  number: number;
  startedAt: string;
  endedAt: string | null;
  variants: ExperimentVariant[];
  trafficCoverage: number;
  reason: string;
  startedBy: string;
}

export interface Experiment extends ExperimentBody {
  seed: string;
  status: ExperimentStatus;
  approval: { by: string; at: string; comment: string | null } | null;
  /**
   * The identity that created the experiment or last changed its design (any definition
   * field but name, description and tags); it may not approve. Absent on experiments
   * stored before identities existed.
   */
  designChangedBy?: string;
  phases: Phase[];
  decision: Decision | null;
  summary: string | null;
}

/** Definition fields: the ones an edit may touch (subject to the lifecycle). */
export const DEFINITION_FIELDS = [
  'name',
  'type',
  'hypothesis',
  'description',
  'owner',
  'tags',
  'flagKey',
  'environment',
  'primaryMetrics',
  'secondaryMetrics',
  'guardrailMetrics',
  'variants',
  'trafficCoverage',
  'targeting',
  'hashAttribute',
  'seed',
  'startAt',
  'endAt',
  'attributionWindowHours',
  'layer',
] as const satisfies readonly (keyof Experiment)[];
export type DefinitionField = (typeof DEFINITION_FIELDS)[number];

export function newExperiment(body: ExperimentBody, createdBy: string): Experiment {
  return {
    ...body,
    seed: body.seed ?? body.key,
    status: 'draft',
    approval: null,
    designChangedBy: createdBy,
    phases: [],
    decision: null,
    summary: null,
  };
}

/** The definition part of an experiment, in a fixed key order (config as code, diffs). */
export function definitionOf(exp: Experiment): ExperimentBody & { seed: string } {
  const out: Record<string, unknown> = { key: exp.key };
  for (const f of DEFINITION_FIELDS) out[f] = exp[f];
  return out as ExperimentBody & { seed: string };
}

/** The id of the split rule the registry maintains in the experiment's flag while it runs. */
export function managedRuleId(experimentKey: string): string {
  return `exp:${experimentKey}`;
}

export function currentPhase(exp: Experiment): Phase | undefined {
  return exp.phases[exp.phases.length - 1];
}

/** The flag rule that serves the experiment's current phase. */
export function splitRuleFor(exp: Experiment, phase: Phase): Rule {
  return {
    id: managedRuleId(exp.key),
    description: `experiment ${exp.key}, phase ${phase.number} (managed by the registry)`,
    conditions: exp.targeting.conditions,
    ...(exp.targeting.segments.length > 0 ? { segments: exp.targeting.segments } : {}),
    split: {
      variants: phase.variants.map((v) => ({ id: v.key, value: v.value, weight: v.weight })),
      hashAttribute: exp.hashAttribute,
      seed: exp.seed,
      coverage: phase.trafficCoverage,
      experimentKey: exp.key,
      phase: phase.number,
      ...(exp.layer ? { layer: exp.layer } : {}),
    },
  } as Rule;
}
