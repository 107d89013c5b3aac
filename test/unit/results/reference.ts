// Loads the committed reference vectors (scripts/stats-reference/generate.py) and compares to them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MetricDefinition, VariantSums } from '../../../services/results/stats';

/** Reference numbers are JSON; null encodes ±Infinity/NaN. */
export type Num = number | null;

export interface ReferenceCase {
  id: string;
  metric: MetricDefinition;
  cuped: boolean;
  a: VariantSums;
  b: VariantSums;
  settings: {
    engine: 'frequentist' | 'bayesian';
    difference: 'relative' | 'absolute';
    alpha: number;
    alternative?: 'two-sided' | 'greater' | 'less';
    sequentialTuning?: number;
    inverse?: boolean;
    prior?: { mean: number; stddev: number; proper: boolean };
  };
  expected: {
    theta: Num;
    a: { mean: Num; variance: Num };
    b: { mean: Num; variance: Num };
    error: string | null;
    estimate?: Num;
    standardError?: Num;
    ci: [Num, Num];
    pValue?: Num;
    dof?: Num;
    expected?: Num;
    stddev?: Num;
    chanceToWin?: Num;
    risk?: [Num, Num];
  };
}

export interface Reference {
  versions: Record<string, string>;
  tolerance: string;
  distributions: {
    normalCdf: [number, Num][];
    normalQuantile: [number, Num][];
    studentTCdf: [number, number, Num][];
    studentTQuantile: [number, number, Num][];
    chiSquareSf: [number, number, Num][];
  };
  tests: ReferenceCase[];
  srm: { units: number[]; weights: number[]; pValue: Num }[];
  corrections: {
    pValues: number[];
    holm: Num[];
    bh: Num[];
    estimates: number[];
    holmCi95: ([Num, Num] | null)[];
  }[];
  power: {
    fromStandardError: {
      effect: number;
      se: number;
      alpha: number;
      targetPower: number;
      power: Num;
      powerOneSided: Num;
      detectableEffect: Num;
    }[];
    planning: {
      baseline: { mean: number; variance: number };
      effect: number;
      unitsPerVariant: number;
      alpha: number;
      sequentialTuning: number | null;
      power: Num;
      mde80: Num;
    }[];
    midExperiment: {
      standardError: number;
      targetEffect: number;
      unitsSoFar: number;
      targetPower: number;
      currentPower: Num;
      scalingFactor: Num;
      additionalUnits: Num;
    }[];
  };
}

export const reference: Reference = JSON.parse(readFileSync(join(__dirname, 'stats-reference.json'), 'utf8'));

/** The documented tolerance: absolute 1e-6 for |reference| ≤ 1, relative 1e-6 above. */
export const TOLERANCE = 1e-6;

/** Returns a description of the mismatch, or null when `actual` matches `expected`. */
export function mismatch(label: string, actual: number, expected: Num): string | null {
  if (expected === null) {
    return Number.isFinite(actual) ? `${label}: expected non-finite, got ${actual}` : null;
  }
  const bound = TOLERANCE * Math.max(1, Math.abs(expected));
  return Math.abs(actual - expected) <= bound ? null : `${label}: expected ${expected}, got ${actual}`;
}
