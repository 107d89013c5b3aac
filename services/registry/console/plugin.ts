// The web console, served by the registry: the built files of console/ (make build) under
// /console/, and GET /v1/me, which tells the console who a token belongs to and its role (the
// API enforces roles; the console only hides what a role may not do). A small handler rather
// than @fastify/static: that plugin loads ESM-only packages that jest's CommonJS runtime cannot.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, resolve, sep } from 'node:path';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { authorize, principalOf, type TokenStore } from '../tokens/auth';

export interface ConsoleDeps {
  tokens: TokenStore;
  /** The built console (its index.html); found from source and from dist/ when absent. */
  dir?: string;
}

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

export const consolePlugin: FastifyPluginAsync<ConsoleDeps> = async (app, deps) => {
  app.get(
    '/v1/me',
    {
      onRequest: authorize(deps.tokens, 'sdk'),
      schema: { tags: ['tokens'], summary: 'Who this token belongs to: token name, identity, kind and role' },
    },
    async (request) => {
      const p = principalOf(request);
      return { name: p.name, identity: p.identity, kind: p.kind, role: p.role };
    },
  );

  const root = deps.dir ?? findConsoleDir();
  const send = (reply: FastifyReply, file: string) =>
    reply
      .header('content-type', TYPES[extname(file)] ?? 'application/octet-stream')
      .header('content-security-policy', CSP)
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', extname(file) === '.html' ? 'no-cache' : 'public, max-age=300')
      .send(readFileSync(file));

  app.get('/console', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/console/'));
  app.get('/console/*', { schema: { hide: true } }, async (request, reply) => {
    if (!root) {
      return reply.code(404).send({
        error: 'not_found',
        message: 'the console is not built: run make build (console/dist is missing)',
      });
    }
    const rest = (request.params as { '*': string })['*'] || 'index.html';
    const file = resolve(root, rest);
    if (file !== root && !file.startsWith(root + sep)) {
      return reply.code(404).send({ error: 'not_found', message: `no file ${rest}` });
    }
    if (existsSync(file) && statSync(file).isFile()) return send(reply, file);
    // Client-side routes are in the hash; anything else unknown is a missing file.
    return reply.code(404).send({ error: 'not_found', message: `no file ${rest}` });
  });
};
