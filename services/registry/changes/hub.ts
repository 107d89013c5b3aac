// Change fan-out within and across instances: every committed change is NOTIFYed on
// CHANGES_CHANNEL (core/entity-store.ts); each instance LISTENs on one connection.

import { EventEmitter } from 'node:events';
import { Client } from 'pg';
import type { Logger } from '../../common/logger';
import { CHANGES_CHANNEL } from '../core/entity-store';

export interface ChangeNotice {
  entityType: 'flag' | 'segment' | 'experiment' | 'resync';
  key: string;
  action: string;
  sequence: number | null;
}

/** A cache of what changes describe (sdk/payload.ts PayloadCache). */
export interface Invalidates {
  invalidate(): void;
}

/**
 * One LISTEN connection per instance. Every committed change (of any instance) invalidates
 * the cache (the SDK payloads) and is emitted as 'change' (to the SSE streams). If the
 * connection drops, notifications may have been missed: on reconnect it invalidates and emits
 * a 'resync'.
 */
export class ChangeHub extends EventEmitter<{ change: [ChangeNotice] }> {
  private client: Client | undefined;
  private stopped = false;
  private retry: NodeJS.Timeout | undefined;
  connected = false;

  constructor(
    private readonly connectionString: string,
    private readonly payloads: Invalidates,
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
