// The web console, served by the registry: the built files of console/ (make build) under
// /console/, and GET /v1/me, which tells the console who a token belongs to and its role (the
// API enforces roles; the console only hides what a role may not do). A small handler rather
// than @fastify/static: that plugin loads ESM-only packages that jest's CommonJS runtime cannot.
import { existsSync, statSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import { ERR } from '../core/errors';
import { authorize, principalOf, type TokenLookup } from '../tokens/auth';
import { findConsoleDir, sendFile } from './files';

export interface ConsoleDeps {
  tokens: TokenLookup;
  /** The built console (its index.html); found from source and from dist/ when absent. */
  dir?: string;
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
  app.get('/console', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/console/'));
  app.get('/console/*', { schema: { hide: true } }, async (request, reply) => {
    if (!root) throw ERR.CONSOLE_NOT_BUILT();
    const rest = (request.params as { '*': string })['*'] || 'index.html';
    const file = resolve(root, rest);
    if (file !== root && !file.startsWith(root + sep)) throw ERR.CONSOLE_FILE_NOT_FOUND({ path: rest });
    if (existsSync(file) && statSync(file).isFile()) return sendFile(reply, file);
    // Client-side routes are in the hash; anything else unknown is a missing file.
    throw ERR.CONSOLE_FILE_NOT_FOUND({ path: rest });
  });
};
