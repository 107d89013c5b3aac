// Structural diff of two JSON documents, used by the experiment log (before/after of every
// change) and by the dry run of a configuration import. Pure, no I/O.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface DiffEntry {
  /** Dotted path from the document root; array elements by index, e.g. `environments.production.rules.0`. */
  path: string;
  op: 'add' | 'remove' | 'change';
  before?: Json;
  after?: Json;
}

/**
 * The changes that turn `before` into `after`. Objects are compared key by key (in sorted
 * order, so the result is deterministic); arrays element by element; anything else as a
 * whole. `undefined` counts as absent. An empty list means equal.
 */
export function diff(before: unknown, after: unknown, path = ''): DiffEntry[] {
  const out: DiffEntry[] = [];
  walk(before as Json | undefined, after as Json | undefined, path, out);
  return out;
}

function walk(a: Json | undefined, b: Json | undefined, path: string, out: DiffEntry[]): void {
  if (a === undefined && b === undefined) return;
  if (a === undefined) {
    out.push({ path, op: 'add', after: b });
    return;
  }
  if (b === undefined) {
    out.push({ path, op: 'remove', before: a });
    return;
  }
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const k of keys) walk(a[k], b[k], join(path, k), out);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const n = Math.max(a.length, b.length);
    for (let i = 0; i < n; i++) walk(a[i], b[i], join(path, String(i)), out);
    return;
  }
  if (!deepEqual(a, b)) out.push({ path, op: 'change', before: a, after: b });
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function isObject(v: Json | undefined): v is { [key: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** JSON equality; key order does not matter, `undefined` members count as absent. */
export function deepEqual(a: unknown, b: unknown): boolean {
  return diffIsEmpty(a, b);
}

function diffIsEmpty(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => diffIsEmpty(x, b[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
  for (const k of keys) if (!diffIsEmpty(ao[k], bo[k])) return false;
  return true;
}

/** Stable JSON text: object keys sorted at every level, so equal documents hash equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = sortKeys(v);
    }
    return out;
  }
  return value;
}
