// Condition and segment matching. Total: a missing attribute, a type mismatch or a
// malformed condition makes the condition false; nothing here throws. Comparisons are
// strict (no coercion between strings, numbers and booleans) so every SDK agrees.

import { RE2JS } from 're2js';
import type { Condition, ContextValue, EvaluationContext, Segment } from './model';
import { compareSemver } from './semver';

// A module binding for a global used per evaluation (see the note in hash.ts).
const { isArray } = Array;

/** The context's value for `name`, ignoring anything a plain JSON context cannot hold. */
export function attributeOf(context: EvaluationContext, name: string): ContextValue | undefined {
  const v = context[name];
  if (v === undefined || v === null) return v;
  const t = typeof v;
  // Keys such as "constructor" reach Object.prototype; those are not attributes.
  if (t === 'string' || t === 'number' || t === 'boolean' || isArray(v)) return v;
  return undefined;
}

export function matchesConditions(conditions: readonly Condition[] | undefined, context: EvaluationContext) {
  if (conditions === undefined) return true;
  for (let i = 0; i < conditions.length; i++) {
    if (!matchesCondition(conditions[i]!, context)) return false;
  }
  return true;
}

export function matchesSegment(segment: Segment, context: EvaluationContext): boolean {
  return matchesConditions(segment.conditions, context);
}

export function matchesCondition(condition: Condition, context: EvaluationContext): boolean {
  const actual = attributeOf(context, condition.attribute);
  const expected = condition.value;
  switch (condition.operator) {
    case 'exists':
      return actual !== undefined && actual !== null;
    case 'not_exists':
      return actual === undefined || actual === null;
  }
  if (actual === undefined || actual === null) return false;
  switch (condition.operator) {
    case 'eq':
      return isScalar(actual) && actual === expected;
    case 'neq':
      return isScalar(actual) && typeof actual === typeof expected && actual !== expected;
    case 'in':
      return isArray(expected) && intersects(actual, expected);
    case 'not_in':
      return isArray(expected) && !intersects(actual, expected);
    case 'contains':
      if (typeof expected !== 'string') return false;
      return typeof actual === 'string'
        ? actual.includes(expected)
        : isArray(actual) && actual.includes(expected);
    case 'starts_with':
      return typeof actual === 'string' && typeof expected === 'string' && actual.startsWith(expected);
    case 'ends_with':
      return typeof actual === 'string' && typeof expected === 'string' && actual.endsWith(expected);
    case 'regex':
      return typeof actual === 'string' && typeof expected === 'string' && matchesRegex(expected, actual);
    case 'gt':
      return typeof actual === 'number' && typeof expected === 'number' && actual > expected;
    case 'gte':
      return typeof actual === 'number' && typeof expected === 'number' && actual >= expected;
    case 'lt':
      return typeof actual === 'number' && typeof expected === 'number' && actual < expected;
    case 'lte':
      return typeof actual === 'number' && typeof expected === 'number' && actual <= expected;
    case 'semver_eq': {
      const d = semverDiff(actual, expected);
      return d !== null && d === 0;
    }
    case 'semver_gt': {
      const d = semverDiff(actual, expected);
      return d !== null && d > 0;
    }
    case 'semver_gte': {
      const d = semverDiff(actual, expected);
      return d !== null && d >= 0;
    }
    case 'semver_lt': {
      const d = semverDiff(actual, expected);
      return d !== null && d < 0;
    }
    case 'semver_lte': {
      const d = semverDiff(actual, expected);
      return d !== null && d <= 0;
    }
    default:
      return false; // an operator this version does not know never matches
  }
}

function isScalar(v: ContextValue): v is string | number | boolean {
  return !isArray(v);
}

/** A scalar is in the list; a list attribute shares at least one element with it. */
function intersects(actual: ContextValue, list: ReadonlyArray<string | number | boolean>): boolean {
  if (!isArray(actual)) return list.includes(actual as string | number | boolean);
  for (let i = 0; i < actual.length; i++) if (list.includes(actual[i]!)) return true;
  return false;
}

function semverDiff(actual: ContextValue, expected: unknown): number | null {
  if (typeof actual !== 'string' || typeof expected !== 'string') return null;
  return compareSemver(actual, expected);
}

// Regex conditions run on RE2JS, a pure-JavaScript port of RE2: matching is linear in the
// subject's length whatever the pattern (no backtracking), so `^(a+)+$` cannot stall a
// server or an SDK. RE2 syntax has no backreferences or lookaround; such patterns do not
// compile and the API refuses them. Pure JavaScript, no Node built-ins, so this core can
// run in browsers. The length bounds keep the cost of one evaluation small and fixed.
export const MAX_REGEX_PATTERN_LENGTH = 256;
export const MAX_REGEX_SUBJECT_LENGTH = 1024;
const regexCache = new Map<string, RE2JS | null>();
const REGEX_CACHE_LIMIT = 1000;

function matchesRegex(pattern: string, subject: string): boolean {
  if (subject.length > MAX_REGEX_SUBJECT_LENGTH) return false;
  let re = regexCache.get(pattern);
  if (re === undefined) {
    re = compile(pattern);
    if (regexCache.size >= REGEX_CACHE_LIMIT) regexCache.clear();
    regexCache.set(pattern, re);
  }
  // find(): a match anywhere, as RegExp#test; anchors say otherwise.
  return re !== null && re.matcher(subject).find();
}

/** Whether a regex condition with this pattern can ever match (for the API's validation). */
export function isUsableRegex(pattern: string): boolean {
  return compile(pattern) !== null;
}

function compile(pattern: string): RE2JS | null {
  if (pattern.length > MAX_REGEX_PATTERN_LENGTH) return null;
  try {
    return RE2JS.compile(pattern);
  } catch {
    return null;
  }
}
