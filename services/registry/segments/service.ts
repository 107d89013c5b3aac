// What can happen to a segment: create, replace, delete (only when nothing uses it).

import { withTransaction, type Pool } from '../core/db';
import { changeLocked, insert, remove, update, type Stored } from '../core/entity-store';
import { conditionProblems } from '../core/conditions';
import { ERR, failIfProblems } from '../core/errors';
import type { SegmentBody } from './model';
import { segmentUsers } from './store';

export function checkSegment(segment: SegmentBody): void {
  failIfProblems(
    'segment',
    segment.conditions.flatMap((c, i) => conditionProblems(c, `conditions.${i}`)),
  );
}

export async function createSegment(
  pool: Pool,
  body: SegmentBody,
  actor: string,
): Promise<Stored<SegmentBody>> {
  checkSegment(body);
  return withTransaction(pool, (client) =>
    insert(client, 'segment', body.key, body, { actor, action: 'created' }),
  );
}

export async function replaceSegment(
  pool: Pool,
  key: string,
  body: SegmentBody,
  expected: number | undefined,
  actor: string,
): Promise<Stored<SegmentBody>> {
  return changeLocked(pool, 'segment', key, expected, async (client, current: Stored<SegmentBody>) => {
    return update(client, 'segment', current, body, { actor, action: 'updated' });
  });
}

export async function deleteSegment(
  pool: Pool,
  key: string,
  expected: number | undefined,
  actor: string,
): Promise<void> {
  await changeLocked(pool, 'segment', key, expected, async (client, current: Stored<SegmentBody>) => {
    const users = await segmentUsers(client, key);
    if (users.length > 0) throw ERR.IN_USE({ what: `segment "${key}"`, users: users.join(', ') });
    await remove(client, 'segment', current, { actor, action: 'deleted' });
  });
}
