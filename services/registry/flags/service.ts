// What can happen to a flag: create, replace, change one environment (the kill switch), delete.
// Every write checks references in its transaction and goes through the entity store's one
// write path (audit entry, outbox row, NOTIFY).

import type { Flag, FlagEnvironment } from '@xp-platform/evaluation';
import { withTransaction, type Pool, type PoolClient } from '../core/db';
import { changeLocked, existingKeys, insert, remove, update, type Stored } from '../core/entity-store';
import { ERR, failIfProblems } from '../core/errors';
import { deepEqual } from '../core/json-diff';
import { managedRuleId } from '../experiments/model';
import type { FlagBody } from './model';
import { normalizeFlag, validateFlag } from './rules';
import { flagUsers, runningExperimentsOn } from './store';

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
  const segments = await existingKeys(client, 'segment', [...segmentKeys]);
  const flags = await existingKeys(
    client,
    'flag',
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
  for (const exp of await runningExperimentsOn(client, flag.key)) {
    const id = managedRuleId(exp.key);
    const find = (f: Flag) => f.environments[exp.environment]?.rules.find((r) => r.id === id);
    if (!deepEqual(find(before), find(flag))) {
      throw ERR.MANAGED_BY_EXPERIMENT({ rule: id, environment: exp.environment, experiment: exp.key });
    }
  }
}

export async function createFlag(
  pool: Pool,
  body: FlagBody,
  environments: readonly string[],
  actor: string,
): Promise<Stored<Flag>> {
  const flag = normalizeFlag(body, environments);
  return withTransaction(pool, async (client) => {
    await checkFlag(client, flag, environments);
    return insert(client, 'flag', flag.key, flag, { actor, action: 'created' });
  });
}

export async function replaceFlag(
  pool: Pool,
  key: string,
  body: FlagBody,
  expected: number | undefined,
  environments: readonly string[],
  actor: string,
): Promise<Stored<Flag>> {
  return changeLocked(pool, 'flag', key, expected, async (client, current: Stored<Flag>) => {
    const next = normalizeFlag(body, environments);
    await checkFlag(client, next, environments, current.doc);
    return update(client, 'flag', current, next, { actor, action: 'updated' });
  });
}

/** Changes one environment; the audit action names the kill switch (disabled:/enabled:<env>). */
export async function changeEnvironment(
  pool: Pool,
  key: string,
  environment: string,
  patch: Partial<FlagEnvironment>,
  expected: number | undefined,
  environments: readonly string[],
  actor: string,
): Promise<Stored<Flag>> {
  return changeLocked(pool, 'flag', key, expected, async (client, current: Stored<Flag>) => {
    const env = current.doc.environments[environment];
    if (!env) throw ERR.NOT_FOUND({ what: `environment "${environment}" of flag "${key}"` });
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
    return update(client, 'flag', current, next, { actor, action });
  });
}

/** Deletes a flag no other flag requires and no experiment (not archived) uses. */
export async function deleteFlag(
  pool: Pool,
  key: string,
  expected: number | undefined,
  actor: string,
): Promise<void> {
  await changeLocked(pool, 'flag', key, expected, async (client, current: Stored<Flag>) => {
    const users = await flagUsers(client, key);
    if (users.length > 0) {
      throw ERR.IN_USE({
        what: `flag "${key}"`,
        users: users.map((u) => `${u.kind} "${u.key}"`).join(', '),
      });
    }
    await remove(client, 'flag', current, { actor, action: 'deleted' });
  });
}
