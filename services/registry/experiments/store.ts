// Experiment queries beyond the shared entity store (core/entity-store.ts).

import type { Queryable } from '../core/entity-store';
import type { Experiment } from './model';

/** The other running experiments (key and layer), for mutual exclusion within layers. */
export async function runningExperiments(
  q: Queryable,
  exceptKey: string,
): Promise<Pick<Experiment, 'key' | 'layer'>[]> {
  const { rows } = await q.query<{ doc: Experiment }>(
    `SELECT doc FROM experiments WHERE status = 'running' AND key <> $1`,
    [exceptKey],
  );
  return rows.map((r) => ({ key: r.doc.key, layer: r.doc.layer }));
}
