// The built web console (console/dist, from make build): where it is, and how its files are
// served (content types, a same-origin content security policy, caching).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import type { FastifyReply } from 'fastify';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

// Same-origin only: the console talks to this registry and loads nothing from elsewhere.
const CSP =
  "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** console/dist, looked up from this file's folder upwards (source tree and dist/ alike). */
export function findConsoleDir(from = __dirname): string | null {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    const candidate = join(dir, 'console', 'dist');
    if (existsSync(join(candidate, 'index.html'))) return candidate;
  }
  return null;
}

export function sendFile(reply: FastifyReply, file: string): FastifyReply {
  return reply
    .header('content-type', TYPES[extname(file)] ?? 'application/octet-stream')
    .header('content-security-policy', CSP)
    .header('x-content-type-options', 'nosniff')
    .header('cache-control', extname(file) === '.html' ? 'no-cache' : 'public, max-age=300')
    .send(readFileSync(file));
}
