// The outbox relay: publishes committed changes to the compacted registry-changes topic in
// sequence order. Semantics (docs/registry.md):
//
// - One relay at a time across instances: the leader holds a session advisory lock on its
//   own connection; the others poll for it. If the leader dies, PostgreSQL drops its
//   session and the lock with it, and another instance takes over.
// - A batch is marked published only after Kafka acknowledged it (acks=all, idempotent
//   producer, one request in flight), so nothing is lost. A crash between the ack and the
//   mark re-sends that batch: delivery is at least once, and a consumer drops any record
//   whose `sequence` is not above the last one it applied.
// - Sequences are handed out in commit order (store.ts) and relayed in that order; batches
//   are sent one after another, so the topic's order is the commit order.

import { Client } from 'pg';
import type { Producer } from 'kafkajs';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../../common/logger';
import type { RegistryChange } from '../../common/records';
import type { AvroSerde } from '../../common/serde';
import { LOCKS } from '../core/db';
import { CHANGES_CHANNEL } from '../core/entity-store';

export interface RelayOptions {
  connectionString: string;
  producer: Producer;
  serde: AvroSerde;
  topic: string;
  batchSize: number;
  pollMs: number;
  logger: Logger;
  metrics: Registry;
}

interface OutboxRow {
  sequence: string;
  entity_type: 'flag' | 'experiment';
  entity_key: string;
  version: string;
  action: string;
  actor: string;
  changed_at: Date;
  snapshot: unknown;
}

export function toRecord(row: OutboxRow): RegistryChange {
  return {
    sequence: Number(row.sequence),
    entityType: row.entity_type,
    key: row.entity_key,
    version: Number(row.version),
    action: row.action,
    actor: row.actor,
    changedAt: row.changed_at.getTime(),
    snapshot: row.snapshot === null ? null : JSON.stringify(row.snapshot),
  };
}

export class OutboxRelay {
  private stopped = false;
  private running: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** A notification arrived while not sleeping: the next sleep returns at once. */
  private woken = false;
  private client: Client | undefined;
  leader = false;
  private readonly published: Counter;
  private readonly pending: Gauge;

  constructor(private readonly opts: RelayOptions) {
    this.published = new Counter({
      name: 'xp_registry_outbox_published_total',
      help: 'Outbox records acknowledged by Kafka',
      registers: [opts.metrics],
    });
    this.pending = new Gauge({
      name: 'xp_registry_outbox_pending',
      help: 'Outbox records not yet published (as last seen by the relay leader)',
      registers: [opts.metrics],
    });
  }

  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.notify();
    await this.running;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.session();
      } catch (err) {
        if (!this.stopped) this.opts.logger.warn({ err }, 'outbox relay interrupted; retrying');
      } finally {
        this.leader = false;
        const client = this.client;
        this.client = undefined;
        // Ending the session releases the advisory lock.
        await client?.end().catch(() => undefined);
      }
      if (!this.stopped) await this.sleep(this.opts.pollMs);
    }
  }

  /** One database session: become leader (or wait to), then relay until stopped or broken. */
  private async session(): Promise<void> {
    const client = new Client({ connectionString: this.opts.connectionString });
    this.client = client;
    client.on('error', (err) => {
      this.opts.logger.warn({ err }, 'outbox relay connection error');
      this.notify();
    });
    await client.connect();
    while (!this.stopped) {
      const { rows } = await client.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_lock($1, $2) AS locked',
        [...LOCKS.outboxRelay],
      );
      if (rows[0]!.locked) break;
      await this.sleep(this.opts.pollMs);
    }
    if (this.stopped) return;
    this.leader = true;
    client.on('notification', () => this.notify());
    await client.query(`LISTEN ${CHANGES_CHANNEL}`);
    this.opts.logger.info('outbox relay is the leader');
    while (!this.stopped) {
      const sent = await this.relayBatch(client);
      if (sent < this.opts.batchSize) await this.sleep(this.opts.pollMs);
    }
  }

  private async relayBatch(client: Client): Promise<number> {
    const { rows } = await client.query<OutboxRow>(
      `SELECT sequence, entity_type, entity_key, version, action, actor, changed_at, snapshot
       FROM outbox WHERE published_at IS NULL ORDER BY sequence LIMIT $1`,
      [this.opts.batchSize],
    );
    if (rows.length === 0) {
      this.pending.set(0);
      return 0;
    }
    const { producer, serde, topic } = this.opts;
    await producer.send({
      topic,
      acks: -1,
      messages: rows.map((row) => ({
        key: `${row.entity_type}:${row.entity_key}`,
        value: serde.encode(topic, toRecord(row)),
        headers: { 'xp-sequence': row.sequence },
      })),
    });
    await client.query('UPDATE outbox SET published_at = now() WHERE sequence = ANY($1::bigint[])', [
      rows.map((r) => r.sequence),
    ]);
    this.published.inc(rows.length);
    const { rows: left } = await client.query<{ n: string }>(
      'SELECT count(*) AS n FROM outbox WHERE published_at IS NULL',
    );
    this.pending.set(Number(left[0]!.n));
    return rows.length;
  }

  private notify(): void {
    this.woken = true;
    this.wake?.();
  }

  /** Waits `ms`, or less when a change notification (or stop) arrives. */
  private sleep(ms: number): Promise<void> {
    if (this.woken || this.stopped) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        this.woken = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}
