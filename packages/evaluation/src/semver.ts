// Just enough semver for targeting on app versions: precedence of major.minor.patch
// with prerelease ordering (semver.org §11); build metadata is ignored. Lenient where
// app versions commonly differ from strict semver: an optional leading "v", and missing
// minor or patch count as 0 ("5.2" = "5.2.0").

export interface SemVer {
  core: [number, number, number];
  /** Empty for a release; numeric identifiers are numbers. */
  prerelease: Array<number | string>;
}

const VERSION =
  /^[vV]?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z.-]*)?$/;
const NUMERIC = /^\d+$/;
const MAX_LENGTH = 256;

// Versions repeat a lot (a few app versions across millions of users; the condition's
// own value on every evaluation), so parsing is cached. Bounded: cleared when full.
const cache = new Map<string, SemVer | null>();
const CACHE_LIMIT = 10_000;

export function parseSemver(text: string): SemVer | null {
  let parsed = cache.get(text);
  if (parsed !== undefined) return parsed;
  parsed = parse(text);
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(text, parsed);
  return parsed;
}

function parse(text: string): SemVer | null {
  if (text.length > MAX_LENGTH) return null;
  const m = VERSION.exec(text);
  if (!m) return null;
  const core: [number, number, number] = [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)];
  if (!core.every(Number.isSafeInteger)) return null;
  const prerelease = m[4] ? m[4].split('.').map((id) => (NUMERIC.test(id) ? Number(id) : id)) : [];
  return { core, prerelease };
}

/** Negative, zero or positive as a precedes, equals or follows b; null if either is invalid. */
export function compareSemver(a: string, b: string): number | null {
  const va = parseSemver(a);
  const vb = parseSemver(b);
  if (!va || !vb) return null;
  for (let i = 0; i < 3; i++) {
    const d = va.core[i]! - vb.core[i]!;
    if (d !== 0) return d;
  }
  return comparePrerelease(va.prerelease, vb.prerelease);
}

function comparePrerelease(a: Array<number | string>, b: Array<number | string>): number {
  // A release follows all of its prereleases: 1.0.0-rc.1 < 1.0.0.
  if (a.length === 0 || b.length === 0) return b.length - a.length;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y) continue;
    const xNum = typeof x === 'number';
    const yNum = typeof y === 'number';
    if (xNum && yNum) return x - y;
    if (xNum !== yNum) return xNum ? -1 : 1; // numeric identifiers precede alphanumeric ones
    return x < y ? -1 : 1; // ASCII order
  }
  return a.length - b.length;
}
