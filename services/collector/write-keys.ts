import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/** One source allowed to send events: its write key, the id recorded on its events, its browser origins. */
export interface WriteKeyEntry {
  key: string;
  sourceId: string;
  /** Origins browsers may send from (`https://app.example.com`), or `*` for any; none for server-side keys. */
  origins: string[];
}

/** What a request is allowed to do once its write key is known (never the key itself). */
export interface Source {
  sourceId: string;
  origins: ReadonlySet<string>;
}

const entrySchema = z.object({
  key: z.string().min(8, 'a write key needs at least 8 characters'),
  sourceId: z.string().min(1).max(255),
  origins: z
    .array(z.string().regex(/^(\*|https?:\/\/[^/\s]+)$/, 'an origin is * or scheme://host[:port]'))
    .default([]),
});

/** Parses COLLECTOR_WRITE_KEYS (a JSON array of {key, sourceId, origins}); throws a readable error. */
export function parseWriteKeys(text: string): WriteKeyEntry[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // The parser's message can quote the text, which holds secrets.
    throw new Error('not valid JSON');
  }
  const result = z.array(entrySchema).min(1, 'at least one write key is required').safeParse(json);
  if (!result.success) {
    throw new Error(
      result.error.issues
        .map((i) => `${i.path.length ? `[${i.path.join('.')}] ` : ''}${i.message}`)
        .join('; '),
    );
  }
  const seen = new Set<string>();
  for (const { key } of result.data) {
    if (seen.has(key)) throw new Error('the same write key is listed twice');
    seen.add(key);
  }
  return result.data;
}

const digest = (key: string): Buffer => createHash('sha256').update(key, 'utf8').digest();

/**
 * Resolves write keys to sources. Keys are kept only as SHA-256 digests and compared with
 * timingSafeEqual against every entry, so neither the comparison nor the lookup time tells
 * an attacker how much of a guess was right.
 */
export class WriteKeys {
  private readonly entries: { digest: Buffer; source: Source }[];
  /** Every origin some key allows, for CORS preflights (which carry no credentials). */
  readonly anyOrigins: ReadonlySet<string>;

  constructor(entries: WriteKeyEntry[]) {
    this.entries = entries.map((e) => ({
      digest: digest(e.key),
      source: { sourceId: e.sourceId, origins: new Set(e.origins) },
    }));
    this.anyOrigins = new Set(entries.flatMap((e) => e.origins));
  }

  /** The source of `key`, or null when no entry has it. */
  resolve(key: string): Source | null {
    const d = digest(key);
    let found: Source | null = null;
    for (const entry of this.entries) {
      if (timingSafeEqual(entry.digest, d)) found = entry.source;
    }
    return found;
  }
}

/** Whether a browser at `origin` may send with this source's key; requests without Origin are server-side. */
export function originAllowed(origins: ReadonlySet<string>, origin: string | undefined): boolean {
  return origin === undefined || origins.has('*') || origins.has(origin);
}

/**
 * The write key of a request, as Segment clients send it: the HTTP Basic username
 * (`Authorization: Basic base64(key:)`), else an `X-Write-Key` header. Browser beacons,
 * which cannot set headers, put it in the body's `writeKey` field (read by the caller).
 */
export function writeKeyFromHeaders(headers: {
  authorization?: string | undefined;
  'x-write-key'?: string | string[] | undefined;
}): string | undefined {
  const auth = headers.authorization;
  if (auth && /^basic /i.test(auth)) {
    const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const user = colon === -1 ? decoded : decoded.slice(0, colon);
    if (user) return user;
  }
  const header = headers['x-write-key'];
  const value = Array.isArray(header) ? header[0] : header;
  return value || undefined;
}
