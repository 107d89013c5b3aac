import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppDeps } from '../app';
import {
  FLAG_TYPES,
  entityKey,
  flagBodySchema,
  flagEnvironmentPatchSchema,
  keyParams,
  type FlagBody,
} from '../core/schemas';
import { deepEqual } from '../core/json-diff';
import { authorize } from '../tokens/auth';
import { withTransaction, type PoolClient } from '../core/db';
import { conflict, notFound } from '../core/errors';
import type { Flag, FlagEnvironment } from '@xp-platform/evaluation';
import { managedRuleId, type Experiment } from '../experiments/model';
import { normalizeFlag, validateFlag } from './rules';
import { checkVersion, insert, list, load, loadOrThrow, present, remove, update } from '../core/entity-store';
import { existingKeys, failIfProblems, meta, versionOf, withEtag } from '../http/request';

const tags = ['flags'];

export function flagRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { pool } = deps;
  const read = authorize(deps.tokens, 'read');
  const write = authorize(deps.tokens, 'write');
  const environments = deps.config.REGISTRY_ENVIRONMENTS;

  app.get(
    '/v1/flags',
    {
      onRequest: read,
      schema: {
        tags,
        summary: 'List flags',
        querystring: z.object({ tag: z.string().optional(), type: z.enum(FLAG_TYPES).optional() }),
      },
    },
    async (request) => {
      const q = request.query as { tag?: string; type?: string };
      const flags = (await list<Flag>(pool, 'flag')).filter(
        (f) => (!q.tag || f.doc.tags.includes(q.tag)) && (!q.type || f.doc.type === q.type),
      );
      return { flags: flags.map(present) };
    },
  );

  app.post(
    '/v1/flags',
    { onRequest: write, schema: { tags, summary: 'Create a flag', body: flagBodySchema } },
    async (request, reply) => {
      const flag = normalizeFlag(request.body as FlagBody, environments);
      const stored = await withTransaction(pool, async (client) => {
        await checkFlag(client, flag, environments);
        return insert(client, 'flag', flag.key, flag, meta(request, 'created'));
      });
      return withEtag(reply, stored).code(201).send(present(stored));
    },
  );

  app.get(
    '/v1/flags/:key',
    { onRequest: read, schema: { tags, summary: 'Get a flag', params: keyParams } },
    async (request, reply) => {
      const { key } = request.params as { key: string };
      const stored = await loadOrThrow<Flag>(pool, 'flag', key);
      return withEtag(reply, stored).send(present(stored));
    },
  );

  app.put(
    '/v1/flags/:key',
    {
      onRequest: write,
      schema: {
        tags,
        summary: 'Replace a flag (If-Match: its version)',
        params: keyParams,
        body: flagBodySchema.extend({ version: z.number().int().min(1).optional() }),
      },
    },
    async (request, reply) => {
      const { key } = request.params as { key: string };
      const { version: _v, ...body } = request.body as FlagBody & { version?: number };
      if (body.key !== key)
        failIfProblems('flag', [{ path: 'key', message: `must equal the URL's key "${key}"` }]);
      const expected = versionOf(request);
      const stored = await withTransaction(pool, async (client) => {
        const current = await loadOrThrow<Flag>(client, 'flag', key, { lock: true });
        checkVersion(current, expected);
        const next = normalizeFlag(body, environments);
        await checkFlag(client, next, environments, current.doc);
        return update(client, 'flag', current, next, meta(request, 'updated'));
      });
      return withEtag(reply, stored).send(present(stored));
    },
  );

  app.patch(
    '/v1/flags/:key/environments/:environment',
    {
      onRequest: write,
      schema: {
        tags,
        summary: 'Change one environment: enabled (the kill switch), values, rules',
        params: z.strictObject({ key: entityKey, environment: z.string().min(1) }),
        body: flagEnvironmentPatchSchema,
      },
    },
    async (request, reply) => {
      const { key, environment } = request.params as { key: string; environment: string };
      const { version: _v, ...patch } = request.body as Partial<FlagEnvironment> & { version?: number };
      const expected = versionOf(request);
      const stored = await withTransaction(pool, async (client) => {
        const current = await loadOrThrow<Flag>(client, 'flag', key, { lock: true });
        checkVersion(current, expected);
        const env = current.doc.environments[environment];
        if (!env) throw notFound(`environment "${environment}" of flag "${key}"`);
        const next: Flag = {
          ...current.doc,
          environments: { ...current.doc.environments, [environment]: { ...env, ...patch } },
        };
        await checkFlag(client, next, environments, current.doc);
        const action =
          patch.enabled === false && env.enabled
            ? `disabled:${environment}`
            : patch.enabled === true && !env.enabled
              ? `enabled:${environment}`
              : `updated:${environment}`;
        return update(client, 'flag', current, next, meta(request, action));
      });
      return withEtag(reply, stored).send(present(stored));
    },
  );

  app.delete(
    '/v1/flags/:key',
    {
      onRequest: write,
      schema: { tags, summary: 'Delete a flag (If-Match: its version)', params: keyParams },
    },
    async (request, reply) => {
      const { key } = request.params as { key: string };
      const expected = versionOf(request);
      await withTransaction(pool, async (client) => {
        const current = await loadOrThrow<Flag>(client, 'flag', key, { lock: true });
        checkVersion(current, expected);
        const users = await client.query<{ key: string; kind: string }>(
          `SELECT key, 'flag' AS kind FROM flags WHERE doc->'prerequisites' @> $1::jsonb
           UNION ALL
           SELECT key, 'experiment' AS kind FROM experiments WHERE doc->>'flagKey' = $2 AND status <> 'archived'`,
          [JSON.stringify([{ flag: key }]), key],
        );
        if (users.rows.length > 0) {
          throw conflict(
            'in_use',
            `flag "${key}" is still used by ${users.rows.map((u) => `${u.kind} "${u.key}"`).join(', ')}`,
          );
        }
        await remove(client, 'flag', current, meta(request, 'deleted'));
      });
      return reply.code(204).send();
    },
  );
}

/**
 * Semantic checks in the write's transaction (references must exist when it commits), and
 * the governance rule that a running experiment's split rule changes only through the
 * experiment (a new phase), never by editing the flag.
 */
export async function checkFlag(
  client: PoolClient,
  flag: Flag,
  environments: readonly string[],
  before?: Flag,
) {
  const segmentKeys = new Set<string>();
  for (const env of Object.values(flag.environments)) {
    for (const rule of env.rules) for (const s of rule.segments ?? []) segmentKeys.add(s);
  }
  const segments = await existingKeys(client, 'segments', [...segmentKeys]);
  const flags = await existingKeys(
    client,
    'flags',
    (flag.prerequisites ?? []).map((p) => p.flag),
  );
  failIfProblems(
    'flag',
    validateFlag(flag, {
      environments,
      segmentExists: (k) => segments.has(k),
      flagExists: (k) => flags.has(k),
    }),
  );
  if (!before) return;
  const running = await client.query<{ doc: Experiment }>(
    `SELECT doc FROM experiments WHERE status = 'running' AND doc->>'flagKey' = $1`,
    [flag.key],
  );
  for (const { doc: exp } of running.rows) {
    const id = managedRuleId(exp.key);
    const find = (f: Flag) => f.environments[exp.environment]?.rules.find((r) => r.id === id);
    if (!deepEqual(find(before), find(flag))) {
      throw conflict(
        'managed_by_experiment',
        `rule "${id}" in ${exp.environment} belongs to running experiment "${exp.key}": change its variants by starting a new phase, or stop it`,
      );
    }
  }
}

/** For other modules that need a flag inside their transaction. */
export async function loadFlag(client: PoolClient, key: string) {
  return load<Flag>(client, 'flag', key, { lock: true });
}
