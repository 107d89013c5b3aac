// ICE prioritisation, pure. Each idea rates Impact (how much the metric would move if the
// hypothesis holds), Confidence (how sure we are it holds: evidence, past tests) and Ease (how
// little effort the test needs) from 1 to 10. The score is their weighted arithmetic mean,
//
//   score = (wI·impact + wC·confidence + wE·ease) / (wI + wC + wE)
//
// on the same 1–10 scale, rounded to two decimals. Equal weights (the default) give the plain
// ICE average; REGISTRY_IDEA_WEIGHTS="impact:2,confidence:1,ease:1" favours impact. A weight of 0
// drops a criterion. The arithmetic mean (rather than the product) keeps one low rating from
// zeroing an idea and keeps scores comparable when the weights change.
import { z } from 'zod';

export const CRITERIA = ['impact', 'confidence', 'ease'] as const;
export type Criterion = (typeof CRITERIA)[number];
export type Weights = Record<Criterion, number>;

export const DEFAULT_WEIGHTS: Weights = { impact: 1, confidence: 1, ease: 1 };

export interface Ratings {
  expectedImpact: number;
  confidence: number;
  ease: number;
}

export function iceScore(r: Ratings, w: Weights): number {
  const total = w.impact + w.confidence + w.ease;
  const sum = w.impact * r.expectedImpact + w.confidence * r.confidence + w.ease * r.ease;
  return Math.round((sum / total) * 100) / 100;
}

/** "impact:2,confidence:1,ease:1" (any order; missing criteria weigh 1) → weights. */
export const weightsSetting = z
  .string()
  .default('impact:1,confidence:1,ease:1')
  .transform((text, ctx) => {
    const weights: Weights = { ...DEFAULT_WEIGHTS };
    for (const part of text
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const [name, value] = part.split(':').map((s) => s.trim());
      const n = Number(value);
      if (!CRITERIA.includes(name as Criterion) || value === undefined || !Number.isFinite(n) || n < 0) {
        ctx.addIssue({
          code: 'custom',
          message: `"${part}": expected criterion:weight with a criterion of ${CRITERIA.join(', ')} and a weight >= 0`,
        });
        return z.NEVER;
      }
      weights[name as Criterion] = n;
    }
    if (weights.impact + weights.confidence + weights.ease <= 0) {
      ctx.addIssue({ code: 'custom', message: 'at least one weight must be above 0' });
      return z.NEVER;
    }
    return weights;
  });

export function describeScoring(w: Weights) {
  return {
    method: 'ICE',
    weights: w,
    formula: `score = (${w.impact}·impact + ${w.confidence}·confidence + ${w.ease}·ease) / ${
      w.impact + w.confidence + w.ease
    }, each rated 1–10`,
  };
}
