// What JSON.parse accepts silently but a store cannot keep as sent: duplicate keys (the last
// one wins without a word), lone UTF-16 surrogates (`"\ud800"`: BigQuery and PostgreSQL
// refuse them), NUL characters (PostgreSQL text and jsonb refuse them) and numbers beyond
// float64 (`1e400` parses to Infinity, which JSON.stringify writes as null). The collector
// and the registry use these to answer 400 with a path instead of changing data or failing
// in the database.

/** Where a problem is: a dotted path (`properties.items.3.name`), '' for the root. */
export interface JsonProblem {
  path: string;
  message: string;
}

/**
 * The first key that occurs twice in one object of `text`, with its character offset, or
 * null. `text` must already be valid JSON (JSON.parse succeeded): the scan then only needs to
 * tell strings, keys and brackets apart. One pass, no recursion, so it is linear in the
 * length and safe at any nesting depth.
 */
export function duplicateKey(text: string): { key: string; position: number } | null {
  // One entry per open bracket: the keys seen so far in an object, null for an array.
  const stack: (Set<string> | null)[] = [];
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x7b /* { */) stack.push(new Set());
    else if (c === 0x5b /* [ */) stack.push(null);
    else if (c === 0x7d /* } */ || c === 0x5d /* ] */) stack.pop();
    else if (c === 0x22 /* " */) {
      const start = i;
      let escaped = false;
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) {
          escaped = true;
          i++;
        } else if (d === 0x22) break;
      }
      const keys = stack[stack.length - 1];
      if (!keys) continue;
      let j = i + 1;
      while (j < n && isSpace(text.charCodeAt(j))) j++;
      if (text.charCodeAt(j) !== 0x3a /* : */) continue;
      const raw = text.slice(start, i + 1);
      const key = escaped ? (JSON.parse(raw) as string) : raw.slice(1, -1);
      if (keys.has(key)) return { key, position: start };
      keys.add(key);
    }
  }
  return null;
}

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

export interface TextRules {
  /** Refuse U+0000 in strings and keys (PostgreSQL cannot store it). */
  noNul?: boolean;
}

/**
 * The first string, key or number of a parsed JSON value that cannot be stored as sent: a
 * lone surrogate, a NUL (with `noNul`) or a non-finite number. Iterative, so hostile nesting
 * cannot overflow the stack; it visits every node once.
 */
export function textProblem(value: unknown, rules: TextRules = {}, root = ''): JsonProblem | null {
  const pending: [unknown, string][] = [[value, root]];
  while (pending.length > 0) {
    const [v, path] = pending.pop()!;
    if (typeof v === 'string') {
      const bad = stringProblem(v, rules);
      if (bad) return { path, message: bad };
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) return { path, message: NON_FINITE };
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) pending.push([v[i], join(path, String(i))]);
    } else if (v !== null && typeof v === 'object') {
      const keys = Object.keys(v);
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i]!;
        const at = join(path, key.length > 64 ? `${key.slice(0, 64)}…` : key);
        const bad = stringProblem(key, rules);
        if (bad) return { path: at, message: `key: ${bad}` };
        pending.push([(v as Record<string, unknown>)[key], at]);
      }
    }
  }
  return null;
}

export const LONE_SURROGATE =
  'contains a lone UTF-16 surrogate (an unpaired \\ud800-\\udfff escape), which is not text and cannot be stored';
export const NON_FINITE = 'a number beyond the float64 range (such as 1e400) cannot be stored';
export const NUL_CHARACTER = 'contains U+0000 (NUL), which cannot be stored';

/** Why a string cannot be stored, or null. */
export function stringProblem(s: string, rules: TextRules = {}): string | null {
  if (!isWellFormed(s)) return LONE_SURROGATE;
  if (rules.noNul && s.includes('\u0000')) return NUL_CHARACTER;
  return null;
}

// String#isWellFormed (Node 20+) is ES2024, beyond the ES2023 lib the project compiles with.
const wellFormed = (String.prototype as unknown as { isWellFormed: (this: string) => boolean }).isWellFormed;

/** Whether `s` is well-formed UTF-16 (no lone surrogate), in native code. */
export const isWellFormed = (s: string): boolean => wellFormed.call(s);

const join = (path: string, key: string) => (path ? `${path}.${key}` : key);
