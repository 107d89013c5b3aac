// A segment: a named list of conditions that flag rules and experiments target.

import { z } from 'zod';
import { conditionSchema, entityKey } from '../core/schemas';

export const segmentBodySchema = z.strictObject({
  key: entityKey,
  description: z.string().max(10_000).default(''),
  conditions: z.array(conditionSchema).min(1),
});
export type SegmentBody = z.infer<typeof segmentBodySchema>;
