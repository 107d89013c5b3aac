// Segment queries beyond the shared entity store (core/entity-store.ts): what refers to a segment.

import type { Queryable } from '../core/entity-store';

/** Flags whose rules target the segment, and experiments (not archived) that do. */
export async function segmentUsers(q: Queryable, key: string): Promise<string[]> {
  const { rows } = await q.query<{ key: string }>(
    `SELECT key FROM flags f WHERE EXISTS (
       SELECT 1 FROM jsonb_each(f.doc->'environments') e, jsonb_array_elements(e.value->'rules') r
       WHERE r->'segments' ? $1)
     UNION SELECT key FROM experiments WHERE doc->'targeting'->'segments' ? $1 AND status <> 'archived'`,
    [key],
  );
  return rows.map((r) => r.key);
}
