// Flag semantics beyond the request shape: values of the flag's type, known environments,
// segments and prerequisites, usable regexes. Pure; the caller supplies what exists.

import { conditionProblems } from '../core/conditions';
import type { FieldProblem } from '../core/errors';
import type { FlagBody } from './model';
import { type Flag, type FlagEnvironment, type FlagValue, type FlagValueType } from '@xp-platform/evaluation';

export interface FlagContext {
  environments: readonly string[];
  segmentExists: (key: string) => boolean;
  flagExists: (key: string) => boolean;
}

/** The value served by a new environment before anyone configures it. */
export function zeroValue(valueType: FlagValueType): FlagValue {
  return { boolean: false, string: '', number: 0, json: null }[valueType];
}

/** A complete flag from a client's definition: every configured environment present, off. */
export function normalizeFlag(body: FlagBody, environments: readonly string[]): Flag {
  // zod's inferred rule type is structurally the model's Rule union, only looser.
  const given = body.environments as Record<string, FlagEnvironment>;
  const envs: Record<string, FlagEnvironment> = {};
  for (const name of environments) {
    envs[name] = given[name] ?? {
      enabled: false,
      defaultValue: zeroValue(body.valueType),
      offValue: zeroValue(body.valueType),
      rules: [],
    };
  }
  for (const [name, env] of Object.entries(given)) envs[name] ??= env;
  return {
    key: body.key,
    type: body.type,
    valueType: body.valueType,
    description: body.description,
    owner: body.owner,
    tags: body.tags,
    prerequisites: body.prerequisites,
    environments: envs,
  };
}

export function valueMatchesType(value: unknown, valueType: FlagValueType): boolean {
  switch (valueType) {
    case 'boolean':
      return typeof value === 'boolean';
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'json':
      return value !== undefined;
  }
}

export function validateFlag(flag: Flag, ctx: FlagContext): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const checkValue = (path: string, value: unknown) => {
    if (!valueMatchesType(value, flag.valueType)) {
      problems.push({ path, message: `must be a ${flag.valueType} (the flag's valueType)` });
    }
  };
  for (const [i, p] of (flag.prerequisites ?? []).entries()) {
    if (p.flag === flag.key)
      problems.push({ path: `prerequisites.${i}.flag`, message: 'a flag cannot require itself' });
    else if (!ctx.flagExists(p.flag))
      problems.push({ path: `prerequisites.${i}.flag`, message: `unknown flag "${p.flag}"` });
  }
  for (const [name, env] of Object.entries(flag.environments)) {
    const at = `environments.${name}`;
    if (!ctx.environments.includes(name)) {
      problems.push({
        path: at,
        message: `unknown environment (configured: ${ctx.environments.join(', ')})`,
      });
    }
    checkValue(`${at}.defaultValue`, env.defaultValue);
    checkValue(`${at}.offValue`, env.offValue);
    const ids = new Set<string>();
    for (const [r, rule] of env.rules.entries()) {
      const rp = `${at}.rules.${r}`;
      if (ids.has(rule.id)) problems.push({ path: `${rp}.id`, message: `duplicate rule id "${rule.id}"` });
      ids.add(rule.id);
      for (const [s, seg] of (rule.segments ?? []).entries()) {
        if (!ctx.segmentExists(seg))
          problems.push({ path: `${rp}.segments.${s}`, message: `unknown segment "${seg}"` });
      }
      for (const [c, cond] of rule.conditions.entries()) {
        problems.push(...conditionProblems(cond, `${rp}.conditions.${c}`));
      }
      if (rule.value !== undefined) checkValue(`${rp}.value`, rule.value);
      if (rule.rollout) checkValue(`${rp}.rollout.value`, rule.rollout.value);
      if (rule.split) {
        for (const [v, variant] of rule.split.variants.entries())
          checkValue(`${rp}.split.variants.${v}.value`, variant.value);
        if (!rule.split.variants.some((v) => v.weight > 0)) {
          problems.push({
            path: `${rp}.split.variants`,
            message: 'at least one variant needs a positive weight',
          });
        }
      }
    }
  }
  return problems;
}
