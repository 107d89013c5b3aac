// The flag model. It is also the SDK payload shape, so everything here is plain JSON:
// no classes, no Dates, no Maps. The API layer validates it (with OPERATORS, the one value
// here); evaluation only relies on it not to crash (see evaluate.ts).

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A value a flag can serve; its JSON type follows the flag's `valueType`. */
export type FlagValue = JsonValue;

export type FlagType = 'release' | 'experiment' | 'operational' | 'permission';
export type FlagValueType = 'boolean' | 'string' | 'number' | 'json';

export interface Flag {
  key: string;
  type: FlagType;
  valueType: FlagValueType;
  description: string;
  owner: string;
  tags: string[];
  /** Flags that must serve the given value (in the same environment and context) first. */
  prerequisites?: Prerequisite[];
  /** Keyed by environment name, e.g. development, staging, production. */
  environments: Record<string, FlagEnvironment>;
}

export interface Prerequisite {
  flag: string;
  value: FlagValue;
}

export interface FlagEnvironment {
  /** The kill switch: off serves `offValue` to everyone. */
  enabled: boolean;
  /** Served when on and no rule matches. */
  defaultValue: FlagValue;
  offValue: FlagValue;
  /** Evaluated in order; the first rule that matches serves. */
  rules: Rule[];
}

export type Rule = TargetingRule | RolloutRule | SplitRule;

interface RuleBase {
  id: string;
  description?: string;
  /** All must match. */
  conditions: Condition[];
  /** Keys of segments that must all match, resolved from the segment map given to evaluate. */
  segments?: string[];
}

/** Serves `value` to every unit matching the conditions. */
export interface TargetingRule extends RuleBase {
  value: FlagValue;
  rollout?: never;
  split?: never;
}

/** Serves `value` to `percentage`% of matching units; the others fall through. */
export interface RolloutRule extends RuleBase {
  rollout: Rollout;
  value?: never;
  split?: never;
}

/** Assigns matching units to weighted variants (an experiment or a multi-variant release). */
export interface SplitRule extends RuleBase {
  split: Split;
  value?: never;
  rollout?: never;
}

export interface Rollout {
  /** 0..100 */
  percentage: number;
  value: FlagValue;
  /** Context attribute whose value is the hashed unit, e.g. userId. */
  hashAttribute: string;
  /** Hash salt; defaults to the flag key. */
  seed?: string;
}

export interface Split {
  variants: Variant[];
  hashAttribute: string;
  /** Hash salt, usually the experiment key. */
  seed: string;
  /** Share of matching units that enter the split, 0..1; the others fall through. */
  coverage: number;
  /** Reported in the result for exposure logging; defaults to the flag key. */
  experimentKey?: string;
  /** Starting a new phase re-randomises every unit (the phase is part of the salt). */
  phase?: number;
  /** Mutual exclusion: splits of one layer take disjoint ranges of the layer bucket. */
  layer?: LayerRange;
}

export interface Variant {
  id: string;
  value: FlagValue;
  /** Relative; normalised over the variants' sum. */
  weight: number;
}

export interface LayerRange {
  key: string;
  /** The split receives units whose layer bucket is in [start, end), 0 <= start <= end <= 1. */
  start: number;
  end: number;
}

/** Condition operators; the API's validation and every SDK accept exactly these. */
export const OPERATORS = [
  'eq',
  'neq',
  'in',
  'not_in',
  'contains',
  'starts_with',
  'ends_with',
  'regex',
  'gt',
  'gte',
  'lt',
  'lte',
  'semver_eq',
  'semver_gt',
  'semver_gte',
  'semver_lt',
  'semver_lte',
  'exists',
  'not_exists',
] as const;

export type Operator = (typeof OPERATORS)[number];

export type ConditionValue = string | number | boolean | Array<string | number | boolean>;

export interface Condition {
  attribute: string;
  operator: Operator;
  /** Unused by exists and not_exists; a list for in and not_in. */
  value?: ConditionValue;
}

export interface Segment {
  key: string;
  /** All must match. */
  conditions: Condition[];
}

export type ContextValue = string | number | boolean | null | string[];

/** The attributes of the unit being evaluated, e.g. { userId: 'u1', country: 'FR' }. */
export type EvaluationContext = Record<string, ContextValue>;
