// Checks of targeting conditions beyond their shape (flag rules, segments, experiments). Pure.

import { isUsableRegex } from '@xp-platform/evaluation';
import type { FieldProblem } from './errors';

export function conditionProblems(cond: { operator: string; value?: unknown }, path: string): FieldProblem[] {
  const { operator, value } = cond;
  if (operator === 'exists' || operator === 'not_exists') return [];
  if (value === undefined) return [{ path: `${path}.value`, message: `required for operator ${operator}` }];
  if ((operator === 'in' || operator === 'not_in') && !Array.isArray(value)) {
    return [{ path: `${path}.value`, message: `must be a list for operator ${operator}` }];
  }
  if (operator === 'regex' && (typeof value !== 'string' || !isUsableRegex(value))) {
    return [
      {
        path: `${path}.value`,
        message:
          'must be a regular expression in RE2 syntax (no backreferences or lookaround, so it matches in linear time) of at most 256 characters',
      },
    ];
  }
  return [];
}
