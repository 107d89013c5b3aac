// Request shapes shared by several features, validated with zod (field-path errors) and
// converted to JSON Schema for the OpenAPI document, so there is one definition of each. Objects
// are strict everywhere: an unknown field is an error rather than silently ignored (a typo in
// `enabled` must not pass). Each feature's own shapes are in its model.ts.

import { z } from 'zod';
import { OPERATORS } from '@xp-platform/evaluation';

export const KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
export const entityKey = z
  .string()
  .regex(KEY_PATTERN, 'letters, digits, _ . - only; starts with a letter or digit; at most 100 characters');

/** Any JSON value (flag values). */
export const jsonValue = z.json();

/** A person or service: letters, digits, _ . @ -. */
export const identityName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$/, 'letters, digits, _ . @ - only');

const scalar = z.union([z.string(), z.number(), z.boolean()]);
export const conditionSchema = z.strictObject({
  attribute: z.string().min(1),
  operator: z.enum(OPERATORS),
  value: z.union([scalar, z.array(scalar)]).optional(),
});

/** A range of a mutual-exclusion layer (flag split rules and experiments). */
export const layerRange = z
  .strictObject({
    key: entityKey,
    start: z.number().min(0).max(1),
    end: z.number().min(0).max(1),
  })
  .refine((l) => l.start <= l.end, { message: 'start must not exceed end', path: ['end'] });

export const keyParams = z.strictObject({ key: entityKey });
