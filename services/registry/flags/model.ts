// A flag as clients write it (zod: validation and the OpenAPI schemas). The stored flag is the
// evaluation core's Flag (@xp-platform/evaluation), completed by rules.ts normalizeFlag.

import { z } from 'zod';
import { conditionSchema, entityKey, jsonValue as json, layerRange } from '../core/schemas';

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
