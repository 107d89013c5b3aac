// Request shapes, validated with zod (field-path errors) and converted to JSON Schema for
// the OpenAPI document, so there is one definition of each. Objects are strict: an unknown
// field is an error rather than silently ignored (a typo in `enabled` must not pass).

import { z } from 'zod';
import { OPERATORS } from '@xp-platform/evaluation';

export const KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
export const entityKey = z
  .string()
  .regex(KEY_PATTERN, 'letters, digits, _ . - only; starts with a letter or digit; at most 100 characters');

const json = z.json();

const scalar = z.union([z.string(), z.number(), z.boolean()]);
export const conditionSchema = z.strictObject({
  attribute: z.string().min(1),
  operator: z.enum(OPERATORS),
  value: z.union([scalar, z.array(scalar)]).optional(),
});

const layerRange = z
  .strictObject({
    key: entityKey,
    start: z.number().min(0).max(1),
    end: z.number().min(0).max(1),
  })
  .refine((l) => l.start <= l.end, { message: 'start must not exceed end', path: ['end'] });

export const rolloutSchema = z.strictObject({
  percentage: z.number().min(0).max(100),
  value: json,
  hashAttribute: z.string().min(1).default('userId'),
  seed: z.string().optional(),
});

export const splitSchema = z.strictObject({
  variants: z.array(z.strictObject({ id: z.string().min(1), value: json, weight: z.number().min(0) })).min(1),
  hashAttribute: z.string().min(1).default('userId'),
  seed: z.string(),
  coverage: z.number().min(0).max(1).default(1),
  experimentKey: z.string().optional(),
  phase: z.number().int().min(0).optional(),
  layer: layerRange.optional(),
});

export const ruleSchema = z
  .strictObject({
    id: z.string().min(1).max(100),
    description: z.string().optional(),
    conditions: z.array(conditionSchema).default([]),
    segments: z.array(entityKey).optional(),
    value: json.optional(),
    rollout: rolloutSchema.optional(),
    split: splitSchema.optional(),
  })
  .superRefine((rule, ctx) => {
    const kinds = (['value', 'rollout', 'split'] as const).filter((k) => rule[k] !== undefined);
    if (kinds.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: `a rule has exactly one of value, rollout or split (got ${kinds.length === 0 ? 'none' : kinds.join(', ')})`,
        path: [],
      });
    }
  });

export const flagEnvironmentSchema = z.strictObject({
  enabled: z.boolean(),
  defaultValue: json,
  offValue: json,
  rules: z.array(ruleSchema).default([]),
});

export const FLAG_TYPES = ['release', 'experiment', 'operational', 'permission'] as const;
export const VALUE_TYPES = ['boolean', 'string', 'number', 'json'] as const;

/** A flag definition as written by clients (the server fills in missing environments). */
export const flagBodySchema = z.strictObject({
  key: entityKey,
  type: z.enum(FLAG_TYPES).default('release'),
  valueType: z.enum(VALUE_TYPES),
  description: z.string().max(10_000).default(''),
  owner: z.string().max(200).default(''),
  tags: z.array(z.string().min(1).max(100)).default([]),
  prerequisites: z.array(z.strictObject({ flag: entityKey, value: json })).default([]),
  environments: z.record(z.string().min(1), flagEnvironmentSchema).default({}),
});
export type FlagBody = z.infer<typeof flagBodySchema>;

/** A partial update of one environment: the kill switch is `{ "enabled": false }`. */
export const flagEnvironmentPatchSchema = z.strictObject({
  enabled: z.boolean().optional(),
  defaultValue: json.optional(),
  offValue: json.optional(),
  rules: z.array(ruleSchema).optional(),
  version: z.number().int().min(1).optional(),
});

export const segmentBodySchema = z.strictObject({
  key: entityKey,
  description: z.string().max(10_000).default(''),
  conditions: z.array(conditionSchema).min(1),
});
export type SegmentBody = z.infer<typeof segmentBodySchema>;

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

export const ROLES = ['viewer', 'editor', 'admin', 'sdk'] as const;
export type Role = (typeof ROLES)[number];
const identityName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$/, 'letters, digits, _ . @ - only');

export const tokenBodySchema = z.strictObject({
  name: identityName,
  role: z.enum(ROLES),
  /** The person or service the token belongs to; the token's name when absent. */
  identity: identityName.optional(),
  /** person (may approve) or service; sdk tokens are always services. */
  kind: z.enum(['person', 'service']).optional(),
});

export const keyParams = z.strictObject({ key: entityKey });
export const environmentQuery = z.object({ environment: z.string().min(1) });
