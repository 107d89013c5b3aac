// Flag evaluation: pure and synchronous, shared by the server and SDKs. The algorithm and
// the hashing it relies on are specified in docs/evaluation.md; keep the two in step.

import { attributeOf, matchesConditions } from './conditions';
import { bucket, prefixedBucket } from './hash';
import type {
  EvaluationContext,
  Flag,
  FlagEnvironment,
  FlagValue,
  Rollout,
  Rule,
  Segment,
  Split,
  Variant,
} from './model';

// Module bindings for the globals used per evaluation (see the note in hash.ts).
const { hasOwn } = Object;
const { isFinite } = Number;

/** OpenFeature resolution reasons. */
export type EvaluationReason = 'STATIC' | 'TARGETING_MATCH' | 'SPLIT' | 'DEFAULT' | 'DISABLED' | 'ERROR';

export type EvaluationErrorCode =
  | 'FLAG_NOT_FOUND' // a prerequisite names a flag not in options.flags
  | 'MISSING_ENVIRONMENT' // the flag has no configuration for options.environment
  | 'PREREQUISITE_CYCLE'
  | 'GENERAL'; // malformed input that would otherwise have thrown

/** What exposure logging needs: Segment's `Experiment Viewed` experiment_id and variation_id. */
export interface ExperimentAssignment {
  key: string;
  variationId: string;
  phase: number;
}

export interface EvaluationResult {
  /** On ERROR: the environment's offValue, or null when there is no environment. */
  value: FlagValue;
  reason: EvaluationReason;
  /** The variant id, for SPLIT. */
  variant?: string;
  /** The rule that served, for TARGETING_MATCH and SPLIT. */
  ruleId?: string;
  /** Present exactly when reason is SPLIT. */
  experiment?: ExperimentAssignment;
  errorCode?: EvaluationErrorCode;
}

export interface EvaluateOptions {
  environment: string;
  /** Segments referenced by rules, by key. A rule naming an unknown segment does not match. */
  segments?: Record<string, Segment>;
  /** Flags that prerequisites may name, by key. */
  flags?: Record<string, Flag>;
}

/** Evaluates one flag for one context. Never throws: malformed input yields reason ERROR. */
export function evaluate(flag: Flag, context: EvaluationContext, options: EvaluateOptions): EvaluationResult {
  try {
    return evaluateFlag(flag, context, options, undefined);
  } catch {
    return errorResult(null, 'GENERAL');
  }
}

/** `path`: the flags whose prerequisites led here, to detect cycles. */
function evaluateFlag(
  flag: Flag,
  context: EvaluationContext,
  options: EvaluateOptions,
  path: readonly string[] | undefined,
): EvaluationResult {
  const env = own(flag.environments, options.environment);
  if (env === undefined) return errorResult(null, 'MISSING_ENVIRONMENT');
  if (!env.enabled) return result(env.offValue, 'DISABLED');

  const prerequisites = flag.prerequisites;
  if (prerequisites !== undefined && prerequisites.length > 0) {
    const unmet = checkPrerequisites(flag, env, context, options, path);
    if (unmet !== undefined) return unmet;
  }

  const rules = env.rules;
  if (rules === undefined || rules.length === 0) return result(env.defaultValue, 'STATIC');
  for (let i = 0; i < rules.length; i++) {
    const served = evaluateRule(flag, rules[i]!, context, options);
    if (served !== undefined) return served;
  }
  return result(env.defaultValue, 'DEFAULT');
}

/**
 * A prerequisite is met when its flag is on and serves the required value (JSON equality)
 * to this context. Unmet, the flag behaves as if switched off: offValue, reason DISABLED,
 * as LaunchDarkly does. A prerequisite that cannot be evaluated (missing flag, cycle, its own
 * error) makes this flag ERROR too, serving offValue, so a broken chain fails safe and visibly.
 */
function checkPrerequisites(
  flag: Flag,
  env: FlagEnvironment,
  context: EvaluationContext,
  options: EvaluateOptions,
  path: readonly string[] | undefined,
): EvaluationResult | undefined {
  const here = path === undefined ? [flag.key] : [...path, flag.key];
  for (const prerequisite of flag.prerequisites ?? []) {
    if (here.includes(prerequisite.flag)) return errorResult(env.offValue, 'PREREQUISITE_CYCLE');
    const required = options.flags === undefined ? undefined : own(options.flags, prerequisite.flag);
    if (required === undefined) return errorResult(env.offValue, 'FLAG_NOT_FOUND');
    const outcome = evaluateFlag(required, context, options, here);
    if (outcome.reason === 'ERROR') return errorResult(env.offValue, outcome.errorCode ?? 'GENERAL');
    if (outcome.reason === 'DISABLED' || !jsonEqual(outcome.value, prerequisite.value)) {
      return result(env.offValue, 'DISABLED');
    }
  }
  return undefined;
}

/** The result if the rule serves this context; undefined to fall through to the next rule. */
function evaluateRule(
  flag: Flag,
  rule: Rule,
  context: EvaluationContext,
  options: EvaluateOptions,
): EvaluationResult | undefined {
  if (!matchesConditions(rule.conditions, context)) return undefined;
  if (rule.segments !== undefined && !matchesSegments(rule.segments, context, options.segments)) {
    return undefined;
  }
  if (rule.split !== undefined) return assignSplit(flag, rule.id, rule.split, context);
  if (rule.rollout !== undefined) return rollOut(flag, rule.id, rule.rollout, context);
  if (rule.value !== undefined) return result(rule.value, 'TARGETING_MATCH', rule.id);
  return undefined;
}

function matchesSegments(
  keys: readonly string[],
  context: EvaluationContext,
  segments: Record<string, Segment> | undefined,
): boolean {
  for (let i = 0; i < keys.length; i++) {
    const segment = segments === undefined ? undefined : own(segments, keys[i]!);
    if (segment === undefined || !matchesConditions(segment.conditions, context)) return false;
  }
  return true;
}

function rollOut(flag: Flag, ruleId: string, rollout: Rollout, context: EvaluationContext) {
  const unit = unitOf(context, rollout.hashAttribute);
  if (unit === undefined) return undefined;
  // Same salt at every percentage, so raising it only adds units.
  if (bucket(rollout.seed || flag.key, unit) < rollout.percentage / 100) {
    return result(rollout.value, 'TARGETING_MATCH', ruleId);
  }
  return undefined;
}

function assignSplit(flag: Flag, ruleId: string, split: Split, context: EvaluationContext) {
  const unit = unitOf(context, split.hashAttribute);
  if (unit === undefined) return undefined;
  const salt = splitSalt(split, flag.key);
  // Coverage and layer use their own hashes so that neither biases the variant bucket:
  // the units admitted are spread over all variants in proportion to their weights.
  if (!(split.coverage >= 1) && !(prefixedBucket('coverage:', salt, unit) < split.coverage)) return undefined;
  const layer = split.layer;
  if (layer !== undefined) {
    const position = prefixedBucket('layer:', layer.key, unit);
    if (!(position >= layer.start && position < layer.end)) return undefined;
  }
  const variant = pickVariant(split.variants, bucket(salt, unit));
  if (variant === undefined) return undefined;
  const experiment = {
    key: split.experimentKey || flag.key,
    variationId: variant.id,
    phase: split.phase ?? 0,
  };
  return result(variant.value, 'SPLIT', ruleId, variant.id, experiment);
}

/** Phase 0 (or none) hashes with the bare seed; each later phase re-randomises every unit. */
export function splitSalt(split: Split, flagKey: string): string {
  const seed = split.seed || split.experimentKey || flagKey;
  return split.phase ? `${seed}@${split.phase}` : seed;
}

/** The first variant whose cumulative weight exceeds position × total; weights ≤ 0 never win. */
function pickVariant(variants: readonly Variant[], position: number): Variant | undefined {
  let total = 0;
  for (let i = 0; i < variants.length; i++) {
    const w = variants[i]!.weight;
    if (w > 0) total += w;
  }
  if (!(total > 0)) return undefined;
  const target = position * total;
  let cumulative = 0;
  let chosen: Variant | undefined;
  for (let i = 0; i < variants.length; i++) {
    const v = variants[i]!;
    if (!(v.weight > 0)) continue;
    cumulative += v.weight;
    chosen = v;
    if (target < cumulative) break;
  }
  return chosen;
}

/** The hashed unit: a non-empty string, or a finite number in its JavaScript decimal form. */
function unitOf(context: EvaluationContext, attribute: string): string | undefined {
  const v = attributeOf(context, attribute);
  if (typeof v === 'string') return v.length > 0 ? v : undefined;
  if (typeof v === 'number' && isFinite(v)) return `${v}`;
  return undefined;
}

// Always the same property set, in the same order: one object shape keeps callers' property
// accesses monomorphic. JSON serialisation drops the undefined ones.
function result(
  value: FlagValue,
  reason: EvaluationReason,
  ruleId?: string,
  variant?: string,
  experiment?: ExperimentAssignment,
  errorCode?: EvaluationErrorCode,
): EvaluationResult {
  return { value, reason, variant, ruleId, experiment, errorCode };
}

function errorResult(value: FlagValue, errorCode: EvaluationErrorCode): EvaluationResult {
  return result(value, 'ERROR', undefined, undefined, undefined, errorCode);
}

/** Own properties only: a key such as "constructor" must not reach Object.prototype. */
function own<T>(map: Record<string, T>, key: string): T | undefined {
  return hasOwn(map, key) ? map[key] : undefined;
}

function jsonEqual(a: FlagValue | undefined, b: FlagValue | undefined): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => jsonEqual(x, b[i]));
  }
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => hasOwn(b, k) && jsonEqual(a[k], b[k]));
}
