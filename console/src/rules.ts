// Flag rules in words, for people: "if country is one of DE, FR → "green"; 50/50 split
// control/treatment by userId". Pure and DOM-free (unit-tested in test/unit/console). The
// shapes follow @xp-platform/evaluation's model as the registry serves it.

type Scalar = string | number | boolean;
type Value = unknown;

export interface ReadableCondition {
  attribute: string;
  operator: string;
  value?: Scalar | Scalar[];
}

export interface ReadableRule {
  id: string;
  description?: string;
  conditions?: ReadableCondition[];
  segments?: string[];
  value?: Value;
  rollout?: { percentage: number; value: Value; hashAttribute?: string };
  split?: {
    variants: { id: string; value: Value; weight: number }[];
    hashAttribute?: string;
    coverage?: number;
    experimentKey?: string;
    phase?: number;
    layer?: { key: string; start: number; end: number };
  };
}

const PHRASES: Record<string, string> = {
  eq: 'is',
  neq: 'is not',
  in: 'is one of',
  not_in: 'is not one of',
  contains: 'contains',
  starts_with: 'starts with',
  ends_with: 'ends with',
  regex: 'matches',
  gt: '>',
  gte: '≥',
  lt: '<',
  lte: '≤',
  semver_eq: 'is version',
  semver_gt: 'is a version after',
  semver_gte: 'is version or after',
  semver_lt: 'is a version before',
  semver_lte: 'is version or before',
  exists: 'is set',
  not_exists: 'is not set',
};

/** A served value as people read it: strings quoted, the rest as JSON. */
export function showValue(v: Value): string {
  if (typeof v === 'string') return `'${v}'`;
  return JSON.stringify(v) ?? 'nothing';
}

function showOperand(v: Scalar | Scalar[] | undefined, operator: string): string {
  if (v === undefined) return '';
  if (Array.isArray(v)) return v.map(String).join(', ');
  if (operator === 'regex') return `/${String(v)}/`;
  return String(v);
}

export function describeCondition(c: ReadableCondition): string {
  const phrase = PHRASES[c.operator] ?? c.operator;
  const operand = showOperand(c.value, c.operator);
  return operand ? `${c.attribute} ${phrase} ${operand}` : `${c.attribute} ${phrase}`;
}

const round = (x: number) => Number(x.toFixed(1)).toString();

/** Weights as percentages that read naturally: 50/50, 33.3/33.3/33.3, 90/10. */
export function describeWeights(weights: number[]): string {
  const total = weights.reduce((a, b) => a + b, 0);
  if (!(total > 0)) return weights.map(() => '0').join('/');
  return weights.map((w) => round((w / total) * 100)).join('/');
}

/** One rule in words: its conditions, then what it serves. */
export function describeRule(rule: ReadableRule): string {
  const when = [
    ...(rule.segments ?? []).map((s) => `in segment ${s}`),
    ...(rule.conditions ?? []).map(describeCondition),
  ];
  const prefix = when.length > 0 ? `if ${when.join(' and ')}` : 'everyone';
  let serves: string;
  if (rule.split) {
    const s = rule.split;
    const coverage = s.coverage ?? 1;
    serves =
      `${describeWeights(s.variants.map((v) => v.weight))} split ` +
      `${s.variants.map((v) => v.id).join('/')} by ${s.hashAttribute ?? 'userId'}`;
    if (coverage < 1) serves += ` (${round(coverage * 100)}% of them enter)`;
    if (s.layer) serves += `, layer ${s.layer.key} [${s.layer.start}, ${s.layer.end})`;
    if (s.experimentKey) {
      serves += `; experiment ${s.experimentKey}${s.phase !== undefined ? `, phase ${s.phase}` : ''}`;
    }
  } else if (rule.rollout) {
    const r = rule.rollout;
    serves = `${showValue(r.value)} to ${round(r.percentage)}% by ${r.hashAttribute ?? 'userId'}, the others fall through`;
  } else {
    serves = showValue(rule.value);
  }
  return `${prefix} → ${serves}`;
}

/** The whole environment in words, in evaluation order. */
export function describeEnvironment(env: {
  enabled: boolean;
  defaultValue: Value;
  offValue: Value;
  rules: ReadableRule[];
}): string[] {
  if (!env.enabled) return [`off: everyone gets ${showValue(env.offValue)}`];
  return [...env.rules.map(describeRule), `otherwise → ${showValue(env.defaultValue)}`];
}
