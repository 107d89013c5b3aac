// An experiment as clients write it (zod: validation and the OpenAPI schemas), and as stored:
// its definition (what config as code carries) plus governance state the server manages
// (status, approval, phases, decision).

import { z } from 'zod';
import type { Rule } from '@xp-platform/evaluation';
import { conditionSchema, entityKey, jsonValue as json, layerRange } from '../core/schemas';

export const AGGREGATIONS = ['conversion', 'count', 'sum', 'mean'] as const;
export const metricSchema = z.strictObject({
  event: z.string().min(1).max(200),
  aggregation: z.enum(AGGREGATIONS),
  name: z.string().max(200).optional(),
  /** Lower is better (errors, latency, cancellations): a rise is the harmful direction. */
  inverse: z.boolean().optional(),
});

export const experimentVariantSchema = z.strictObject({
  key: z.string().min(1).max(100),
  name: z.string().max(200).optional(),
  weight: z.number().min(0),
  value: json,
});

/** The definition of an experiment: what config as code carries (governance state excluded). */
export const experimentBodySchema = z.strictObject({
  key: entityKey,
  name: z.string().min(1).max(200),
  type: z.enum(['ab', 'aa']).default('ab'),
  hypothesis: z.string().max(10_000).default(''),
  description: z.string().max(10_000).default(''),
  owner: z.string().min(1).max(200),
  tags: z.array(z.string().min(1).max(100)).default([]),
  flagKey: entityKey.nullable().default(null),
  environment: z.string().min(1).default('production'),
  primaryMetrics: z.array(metricSchema).default([]),
  secondaryMetrics: z.array(metricSchema).default([]),
  guardrailMetrics: z.array(metricSchema).default([]),
  variants: z.array(experimentVariantSchema).default([]),
  trafficCoverage: z.number().min(0).max(1).default(1),
  targeting: z
    .strictObject({
      conditions: z.array(conditionSchema).default([]),
      segments: z.array(entityKey).default([]),
    })
    .default({ conditions: [], segments: [] }),
  hashAttribute: z.string().min(1).default('userId'),
  seed: z.string().min(1).optional(),
  startAt: z.iso.datetime({ offset: true }).nullable().default(null),
  endAt: z.iso.datetime({ offset: true }).nullable().default(null),
  attributionWindowHours: z.number().positive().default(72),
  layer: layerRange.nullable().default(null),
});
export type ExperimentBody = z.infer<typeof experimentBodySchema>;

/**
 * A partial update: any definition field but the key. Defaults are removed first: zod's
 * partial() keeps them, and an absent field must mean "unchanged", not "reset".
 */
export const experimentPatchSchema = z.strictObject({
  ...(Object.fromEntries(
    Object.entries(experimentBodySchema.omit({ key: true }).shape).map(([name, field]) => [
      name,
      (field instanceof z.ZodDefault ? (field.unwrap() as z.ZodType) : field).optional(),
    ]),
  ) as { [K in Exclude<keyof ExperimentBody, 'key'>]: z.ZodOptional<z.ZodType<ExperimentBody[K]>> }),
  version: z.number().int().min(1).optional(),
});

export const EXPERIMENT_STATUSES = [
  'draft',
  'in_review',
  'approved',
  'running',
  'stopped',
  'concluded',
  'archived',
] as const;
export type ExperimentStatus = (typeof EXPERIMENT_STATUSES)[number];
export const DECISIONS = ['ship', 'rollback', 'iterate'] as const;
export type Decision = (typeof DECISIONS)[number];

export const transitionSchema = z.strictObject({
  to: z.enum(EXPERIMENT_STATUSES),
  decision: z.enum(DECISIONS).optional(),
  summary: z.string().max(20_000).optional(),
  comment: z.string().max(10_000).optional(),
  version: z.number().int().min(1).optional(),
});

export const newPhaseSchema = z.strictObject({
  reason: z.string().min(1).max(10_000),
  variants: z.array(experimentVariantSchema).min(1).optional(),
  trafficCoverage: z.number().min(0).max(1).optional(),
  version: z.number().int().min(1).optional(),
});
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
