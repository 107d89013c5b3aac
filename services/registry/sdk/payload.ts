// What SDKs fetch and stream: per environment, every flag (with only that environment's
// configuration) and every segment. Built from PostgreSQL on demand and cached until a
// change notification arrives, from this or any other instance (LISTEN/NOTIFY).

import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Client } from 'pg';
import type { Logger } from '../../common/logger';
import { canonicalJson } from '../core/json-diff';
import type { Pool } from '../core/db';
import type { Flag, Segment } from '@xp-platform/evaluation';
import { CHANGES_CHANNEL, list } from '../core/entity-store';

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

export interface ChangeNotice {
  entityType: 'flag' | 'segment' | 'experiment' | 'resync';
  key: string;
  action: string;
  sequence: number | null;
}

/**
 * One LISTEN connection per instance. Every committed change (of any instance) invalidates
 * the payload cache and is emitted as 'change' to the SSE streams. If the connection drops,
 * notifications may have been missed: on reconnect it invalidates and emits a 'resync'.
 */
export class ChangeHub extends EventEmitter<{ change: [ChangeNotice] }> {
  private client: Client | undefined;
  private stopped = false;
  private retry: NodeJS.Timeout | undefined;
  connected = false;

  constructor(
    private readonly connectionString: string,
    private readonly payloads: PayloadCache,
    private readonly logger: Logger,
  ) {
    super();
    this.setMaxListeners(0);
  }

  async start(): Promise<void> {
    const client = new Client({ connectionString: this.connectionString });
    client.on('notification', (msg) => {
      if (msg.channel !== CHANGES_CHANNEL || !msg.payload) return;
      this.payloads.invalidate();
      try {
        this.emit('change', JSON.parse(msg.payload) as ChangeNotice);
      } catch (err) {
        this.logger.warn({ err }, 'unreadable change notification');
      }
    });
    const lost = (err?: Error) => {
      if (this.client !== client) return;
      this.connected = false;
      this.client = undefined;
      client.end().catch(() => undefined);
      if (this.stopped) return;
      this.logger.warn({ err }, 'change listener lost its connection; reconnecting');
      this.retry = setTimeout(() => void this.reconnect(), 1_000);
    };
    client.on('error', lost);
    client.on('end', () => lost());
    await client.connect();
    await client.query(`LISTEN ${CHANGES_CHANNEL}`);
    this.client = client;
    this.connected = true;
  }

  private async reconnect(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.start();
      this.payloads.invalidate();
      this.emit('change', { entityType: 'resync', key: '*', action: 'resync', sequence: null });
    } catch (err) {
      this.logger.warn({ err }, 'change listener reconnect failed');
      this.retry = setTimeout(() => void this.reconnect(), 2_000);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    this.connected = false;
    await client?.end().catch(() => undefined);
  }
}
