// The results summary the results service records in the registry (PUT
// /v1/experiments/{key}/results) and the registry serves, renders and watches for webhook
// events. One contract, validated on both sides; the full statistics stay in BigQuery
// (experiment_results), this is what a report and a notification need.
import { z } from 'zod';

/** null where a statistic does not exist (open interval side, no inference). */
const num = z.number().nullable();
const name = z.string().min(1).max(200);

export const summaryComparisonSchema = z.strictObject({
  variationId: name,
  /** Relative effect and its interval (adjusted by the correction when one is configured). */
  lift: num,
  liftCiLower: num,
  liftCiUpper: num,
  absoluteEffect: num,
  pValue: num,
  pValueAdjusted: num,
  chanceToWin: num,
  significant: z.boolean(),
  guardrailFailed: z.boolean(),
  observedPower: num,
  detectableEffect: num,
  error: z.string().max(100).nullable(),
});

export const summaryMetricSchema = z.strictObject({
  id: name,
  role: z.enum(['primary', 'secondary', 'guardrail']),
  aggregation: z.enum(['conversion', 'count', 'sum', 'mean']),
  /** Lower is better: chance to win and "harmed" read a fall as good. Absent in older summaries. */
  inverse: z.boolean().default(false),
  variants: z.array(z.strictObject({ variationId: name, units: z.number().int().min(0), mean: num })).max(50),
  comparisons: z.array(summaryComparisonSchema).max(50),
});

export const resultsSummarySchema = z.strictObject({
  experimentKey: name,
  phase: z.number().int().min(0),
  snapshotId: z.string().regex(/^[0-9a-f]{64}$/, 'SHA-256 hex'),
  snapshotAt: z.iso.datetime({ offset: true }),
  settings: z.strictObject({
    engine: z.enum(['frequentist', 'bayesian']),
    alpha: z.number().gt(0).lt(1),
    sequential: z.boolean(),
    cuped: z.boolean(),
    correction: z.string().max(50).nullable(),
  }),
  decision: z.strictObject({
    verdict: z.enum(['ship', 'do-not-ship', 'keep-running', 'invalid']),
    variationId: name.nullable(),
    sentence: z.string().min(1).max(2000),
  }),
  variants: z
    .array(
      z.strictObject({
        variationId: name,
        weight: z.number().min(0),
        units: z.number().int().min(0),
        excludedUnits: z.number().int().min(0),
      }),
    )
    .min(1)
    .max(50),
  health: z.strictObject({
    srm: z.strictObject({ pValue: z.number().min(0).max(1), warning: z.boolean() }),
    multipleExposures: z.strictObject({
      units: z.number().int().min(0),
      share: z.number().min(0).max(1),
      warning: z.boolean(),
    }),
    /** Power of the primary comparison closest to significance, and its detectable effect. */
    power: z.strictObject({ observed: num, detectableEffect: num, underpowered: z.boolean() }),
  }),
  metrics: z.array(summaryMetricSchema).max(100),
});

export type ResultsSummary = z.infer<typeof resultsSummarySchema>;
export type SummaryMetric = z.infer<typeof summaryMetricSchema>;
export type SummaryComparison = z.infer<typeof summaryComparisonSchema>;
