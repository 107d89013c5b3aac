// What SDKs fetch and stream: per environment, every flag (with only that environment's
// configuration) and every segment. Built from PostgreSQL on demand and cached until a
// change notification arrives, from this or any other instance (changes/hub.ts ChangeHub).

import { createHash } from 'node:crypto';
import type { Flag, Segment } from '@xp-platform/evaluation';
import type { Pool } from '../core/db';
import { list } from '../core/entity-store';
import { canonicalJson } from '../core/json-diff';

export interface Payload {
  environment: string;
  flags: Record<string, Flag>;
  segments: Record<string, Segment>;
}

export interface BuiltPayload {
  payload: Payload;
  /** Canonical JSON text, served as is. */
  body: string;
  /** Strong ETag from the content, so every instance computes the same one. */
  etag: string;
}

export class PayloadCache {
  private readonly cache = new Map<string, Promise<BuiltPayload>>();
  private generation = 0;

  constructor(private readonly pool: Pool) {}

  get(environment: string): Promise<BuiltPayload> {
    let entry = this.cache.get(environment);
    if (!entry) {
      const generation = this.generation;
      entry = this.build(environment);
      this.cache.set(environment, entry);
      // A change that lands while building invalidates this result, and a failure must not stick.
      entry.then(
        () => {
          if (generation !== this.generation) this.cache.delete(environment);
        },
        () => this.cache.delete(environment),
      );
    }
    return entry;
  }

  invalidate(): void {
    this.generation++;
    this.cache.clear();
  }

  private async build(environment: string): Promise<BuiltPayload> {
    const [flags, segments] = await Promise.all([
      list<Flag>(this.pool, 'flag'),
      list<Segment>(this.pool, 'segment'),
    ]);
    const payload: Payload = { environment, flags: {}, segments: {} };
    for (const { doc } of flags) {
      const env = doc.environments[environment];
      if (env) payload.flags[doc.key] = { ...doc, environments: { [environment]: env } };
    }
    for (const { doc } of segments) payload.segments[doc.key] = { key: doc.key, conditions: doc.conditions };
    const body = canonicalJson(payload);
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    return { payload: JSON.parse(body) as Payload, body, etag };
  }
}
