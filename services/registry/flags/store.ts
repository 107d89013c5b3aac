// Flag queries beyond the shared entity store (core/entity-store.ts): what refers to a flag.

import type { Queryable } from '../core/entity-store';
import type { Experiment } from '../experiments/model';

/** Flags that require `key` and experiments (not archived) wired to it. */
export async function flagUsers(q: Queryable, key: string): Promise<{ key: string; kind: string }[]> {
  const { rows } = await q.query<{ key: string; kind: string }>(
    `SELECT key, 'flag' AS kind FROM flags WHERE doc->'prerequisites' @> $1::jsonb
     UNION ALL
     SELECT key, 'experiment' AS kind FROM experiments WHERE doc->>'flagKey' = $2 AND status <> 'archived'`,
    [JSON.stringify([{ flag: key }]), key],
  );
  return rows;
}

/** The running experiments wired to the flag. */
export async function runningExperimentsOn(q: Queryable, flagKey: string): Promise<Experiment[]> {
  const { rows } = await q.query<{ doc: Experiment }>(
    `SELECT doc FROM experiments WHERE status = 'running' AND doc->>'flagKey' = $1`,
    [flagKey],
  );
  return rows.map((r) => r.doc);
}
