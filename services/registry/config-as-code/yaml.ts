// Configuration as code: YAML documents of flags, segments and experiment definitions.
// Pure: parsing (both forms), export and the import plan (the dry run's diff) need no I/O.
//
// Full form (what export writes):
//   version: 1
//   segments:    { <key>: { description, conditions } }
//   flags:       { <key>: { type, valueType, description, owner, tags, prerequisites, environments } }
//   experiments: { <key>: { name, type, hypothesis, ... } }   definitions only, never status
//
// Plain form (for hand-written files), possibly next to the full form:
//   features:
//     new_checkout: true                                  a boolean flag, on, serving true
//     button_color: { variant_a: blue, variant_b: red }   a string flag split evenly over named variants
//
// Lifecycle state (status, approval, phases, decision) is governance, not configuration:
// it never leaves or enters through YAML, which is what lets export → import round-trip.

import YAML from 'yaml';
import { z } from 'zod';
import type { Flag, FlagValue, FlagValueType } from '@xp-platform/evaluation';
import type { FieldProblem } from '../core/errors';
import { diff, type DiffEntry } from '../core/json-diff';
import { editProblems } from '../experiments/lifecycle';
import {
  DEFINITION_FIELDS,
  definitionOf,
  experimentBodySchema,
  type Experiment,
  type ExperimentBody,
} from '../experiments/model';
import { flagBodySchema } from '../flags/model';
import { normalizeFlag, zeroValue } from '../flags/rules';
import { segmentBodySchema, type SegmentBody } from '../segments/model';

export interface ConfigSet {
  segments: SegmentBody[];
  flags: Flag[];
  experiments: ExperimentBody[];
}

export class ConfigParseError extends Error {
  constructor(readonly problems: FieldProblem[]) {
    super(problems.map((p) => `${p.path || '(root)'}: ${p.message}`).join('; '));
  }
}

const documentSchema = z.strictObject({
  version: z.literal(1).optional(),
  features: z.record(z.string(), z.json()).optional(),
  segments: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
  flags: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
  experiments: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
});

/** Parses and validates a YAML document of either form; throws ConfigParseError listing every problem. */
export function parseConfig(text: string, environments: readonly string[]): ConfigSet {
  const doc = YAML.parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigParseError(
      doc.errors.map((e) => ({
        path: `line ${e.linePos?.[0]?.line ?? '?'}`,
        message: e.message.split('\n')[0]!,
      })),
    );
  }
  let js: unknown;
  try {
    // maxAliasCount bounds alias expansion: a "billion laughs" document throws here.
    js = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new ConfigParseError([{ path: '', message: (err as Error).message }]);
  }
  const raw = documentSchema.safeParse(js ?? {});
  if (!raw.success) throw new ConfigParseError(raw.error.issues.map(issueToProblem([])));
  const problems: FieldProblem[] = [];
  const out: ConfigSet = { segments: [], flags: [], experiments: [] };
  const { features = {}, segments = {}, flags = {}, experiments = {} } = raw.data;

  for (const [key, body] of Object.entries(segments)) {
    const r = segmentBodySchema.safeParse({ ...body, key });
    if (r.success) out.segments.push(r.data);
    else problems.push(...r.error.issues.map(issueToProblem(['segments', key])));
  }
  for (const [key, body] of Object.entries(flags)) {
    const r = flagBodySchema.safeParse({ ...body, key });
    if (r.success) out.flags.push(normalizeFlag(r.data, environments));
    else problems.push(...r.error.issues.map(issueToProblem(['flags', key])));
  }
  for (const [key, value] of Object.entries(features)) {
    if (Object.hasOwn(flags, key)) {
      problems.push({ path: `features.${key}`, message: 'also defined under flags' });
      continue;
    }
    const r = flagBodySchema.safeParse(plainFeature(key, value as FlagValue, environments));
    if (r.success) out.flags.push(normalizeFlag(r.data, environments));
    else problems.push(...r.error.issues.map(issueToProblem(['features', key])));
  }
  for (const [key, body] of Object.entries(experiments)) {
    const r = experimentBodySchema.safeParse({ ...body, key });
    if (r.success) out.experiments.push(r.data);
    else problems.push(...r.error.issues.map(issueToProblem(['experiments', key])));
  }
  if (problems.length > 0) throw new ConfigParseError(problems);
  for (const list of [out.segments, out.flags, out.experiments] as { key: string }[][]) {
    list.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }
  return out;
}

function issueToProblem(prefix: string[]) {
  return (issue: z.core.$ZodIssue): FieldProblem => ({
    path: [...prefix, ...issue.path.map(String)].join('.'),
    message: issue.message,
  });
}

/**
 * A plain-form feature as a full flag definition, on in every environment. A map of
 * name → value is a multi-variant flag: an even split of its variants on userId, salted
 * by the flag key, serving the first variant when off.
 */
export function plainFeature(key: string, value: FlagValue, environments: readonly string[]): unknown {
  const env = (e: object) => Object.fromEntries(environments.map((name) => [name, e]));
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const variants = Object.entries(value);
    const valueType = commonType(variants.map(([, v]) => v));
    const first = variants[0]?.[1] ?? zeroValue(valueType);
    return {
      key,
      type: 'experiment',
      valueType,
      environments: env({
        enabled: true,
        defaultValue: first,
        offValue: first,
        rules: [
          {
            id: 'variants',
            conditions: [],
            split: {
              seed: key,
              hashAttribute: 'userId',
              coverage: 1,
              variants: variants.map(([id, v]) => ({ id, value: v, weight: 1 })),
            },
          },
        ],
      }),
    };
  }
  const valueType = commonType([value]);
  return {
    key,
    type: 'release',
    valueType,
    environments: env({
      enabled: true,
      defaultValue: value,
      offValue: valueType === 'boolean' ? false : value,
      rules: [],
    }),
  };
}

function commonType(values: FlagValue[]): FlagValueType {
  const types = new Set(
    values.map((v) =>
      typeof v === 'boolean' || typeof v === 'string' || typeof v === 'number' ? typeof v : 'json',
    ),
  );
  return types.size === 1 ? ([...types][0] as FlagValueType) : 'json';
}

/** The full form, deterministic: entities sorted by key, fields in declaration order. */
export function exportConfig(set: {
  segments: SegmentBody[];
  flags: Flag[];
  experiments: Experiment[];
}): string {
  const byKey = <T extends { key: string }>(items: T[], strip: (x: T) => object) =>
    Object.fromEntries([...items].sort((a, b) => (a.key < b.key ? -1 : 1)).map((x) => [x.key, strip(x)]));
  const doc = {
    version: 1,
    segments: byKey(set.segments, ({ key: _k, ...rest }) => ({
      description: rest.description,
      conditions: rest.conditions,
    })),
    flags: byKey(set.flags, (f) => ({
      type: f.type,
      valueType: f.valueType,
      description: f.description,
      owner: f.owner,
      tags: f.tags,
      prerequisites: f.prerequisites ?? [],
      environments: Object.fromEntries(
        Object.keys(f.environments)
          .sort()
          .map((name) => {
            const env = f.environments[name]!;
            return [
              name,
              {
                enabled: env.enabled,
                defaultValue: env.defaultValue,
                offValue: env.offValue,
                rules: env.rules.map((r) => ordered(r, RULE_ORDER)),
              },
            ];
          }),
      ),
    })),
    experiments: byKey(set.experiments, (e) => {
      const { key: _k, ...definition } = definitionOf(e);
      return definition;
    }),
  };
  return YAML.stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false });
}

// PostgreSQL's jsonb stores object keys in its own order; export in a readable, fixed one.
const RULE_ORDER = ['id', 'description', 'conditions', 'segments', 'value', 'rollout', 'split'];

function ordered<T extends object>(obj: T, order: string[]): T {
  const out: Record<string, unknown> = {};
  for (const k of order) if (k in obj) out[k] = (obj as Record<string, unknown>)[k];
  for (const k of Object.keys(obj).sort()) if (!(k in out)) out[k] = (obj as Record<string, unknown>)[k];
  return out as T;
}

export interface PlannedChange {
  entityType: 'segment' | 'flag' | 'experiment';
  key: string;
  op: 'create' | 'update';
  diff: DiffEntry[];
}

export interface ImportPlan {
  changes: PlannedChange[];
  /** Changes the lifecycle forbids (e.g. a running experiment's variants); the import is refused. */
  conflicts: { entityType: 'experiment'; key: string; problems: string[] }[];
  unchanged: number;
}

/**
 * What importing `incoming` over `current` would do. Entities absent from the file are left
 * alone (an import never deletes).
 */
export function planImport(
  current: { segments: SegmentBody[]; flags: Flag[]; experiments: Experiment[] },
  incoming: ConfigSet,
): ImportPlan {
  const plan: ImportPlan = { changes: [], conflicts: [], unchanged: 0 };
  const compare = (entityType: PlannedChange['entityType'], key: string, before: unknown, after: unknown) => {
    const d = diff(before ?? undefined, after);
    if (before === undefined) plan.changes.push({ entityType, key, op: 'create', diff: d });
    else if (d.length > 0) plan.changes.push({ entityType, key, op: 'update', diff: d });
    else plan.unchanged++;
    return d;
  };
  const segs = new Map(current.segments.map((s) => [s.key, s]));
  for (const s of incoming.segments) compare('segment', s.key, segs.get(s.key), s);
  const flags = new Map(current.flags.map((f) => [f.key, f]));
  for (const f of incoming.flags) compare('flag', f.key, flags.get(f.key), f);
  const exps = new Map(current.experiments.map((e) => [e.key, e]));
  for (const e of incoming.experiments) {
    const existing = exps.get(e.key);
    const next = { ...e, seed: e.seed ?? existing?.seed ?? e.key };
    const d = compare('experiment', e.key, existing ? definitionOf(existing) : undefined, next);
    if (existing && d.length > 0) {
      const fields = DEFINITION_FIELDS.filter((f) =>
        d.some((x) => x.path === f || x.path.startsWith(`${f}.`)),
      );
      const problems = editProblems(existing, fields);
      if (problems.length > 0) plan.conflicts.push({ entityType: 'experiment', key: e.key, problems });
    }
  }
  return plan;
}
