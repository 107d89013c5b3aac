// Exposure logging for server-side evaluation (POST /v1/evaluate): one Exposure record per
// unit, experiment and variant, on the exposures topic keyed by unit.
//
// Deduplication here is per instance and best effort: a bounded LRU of the last N
// (unit, experiment, phase, variant) tuples. Another instance, or this one after a
// restart or eviction, may emit the same exposure again; its messageId is derived from
// the tuple, so downstream (the enricher: first exposure wins) drops the repeat.

import { createHash } from 'node:crypto';
import type { Producer } from 'kafkajs';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from '../../common/logger';
import type { Exposure } from '../../common/records';
import type { AvroSerde } from '../../common/serde';

/** A Map-backed LRU of keys: Map iteration order is insertion order, so the first key is the oldest. */
export class LruSet {
  private readonly map = new Map<string, true>();
  constructor(private readonly capacity: number) {}

  /** True when `key` was already present (and refreshes it); false when newly added. */
  seen(key: string): boolean {
    if (this.map.has(key)) {
      this.map.delete(key);
      this.map.set(key, true);
      return true;
    }
    if (this.capacity <= 0) return false;
    this.map.set(key, true);
    if (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value!);
    return false;
  }

  forget(key: string): void {
    this.map.delete(key);
  }

  get size(): number {
    return this.map.size;
  }
}

export interface ExposureInput {
  unitId: string;
  experimentKey: string;
  variationId: string;
  phase: number;
  attributes: Record<string, unknown>;
}

export interface ExposureLogger {
  log(exposures: ExposureInput[]): Promise<number>;
}

export class KafkaExposureLogger implements ExposureLogger {
  private readonly dedupe: LruSet;
  private readonly emitted: Counter;
  private readonly failed: Counter;

  constructor(
    private readonly producer: Producer,
    private readonly serde: AvroSerde,
    private readonly topic: string,
    dedupeSize: number,
    metrics: Registry,
    private readonly logger: Logger,
  ) {
    this.dedupe = new LruSet(dedupeSize);
    this.emitted = new Counter({
      name: 'xp_registry_exposures_emitted_total',
      help: 'Exposure records sent by server-side evaluation',
      registers: [metrics],
    });
    this.failed = new Counter({
      name: 'xp_registry_exposures_failed_total',
      help: 'Exposure records Kafka did not acknowledge',
      registers: [metrics],
    });
  }

  /** Sends the exposures not seen recently; resolves with how many were sent. Never throws. */
  async log(exposures: ExposureInput[]): Promise<number> {
    const fresh = exposures.filter((e) => !this.dedupe.seen(dedupeKey(e)));
    if (fresh.length === 0) return 0;
    const now = Date.now();
    const messages = fresh.map((e) => {
      const record: Exposure = {
        messageId: exposureId(e),
        unitId: e.unitId,
        experimentKey: e.experimentKey,
        variationId: e.variationId,
        timestamp: now,
        receivedAt: now,
        origin: 'registry',
        attributes: JSON.stringify(e.attributes),
      };
      return { key: e.unitId, value: this.serde.encode(this.topic, record) };
    });
    try {
      await this.producer.send({ topic: this.topic, acks: -1, messages });
      this.emitted.inc(fresh.length);
      return fresh.length;
    } catch (err) {
      // Forget them so the next evaluation retries; the evaluation itself still answers.
      for (const e of fresh) this.dedupe.forget(dedupeKey(e));
      this.failed.inc(fresh.length);
      this.logger.warn({ err, count: fresh.length }, 'exposures not delivered to Kafka');
      return 0;
    }
  }
}

function dedupeKey(e: Pick<ExposureInput, 'unitId' | 'experimentKey' | 'phase' | 'variationId'>): string {
  return JSON.stringify([e.unitId, e.experimentKey, e.phase, e.variationId]);
}

/** Deterministic: the same unit, experiment, phase and variant always gets the same messageId. */
export function exposureId(
  e: Pick<ExposureInput, 'unitId' | 'experimentKey' | 'phase' | 'variationId'>,
): string {
  return `reg-${createHash('sha256').update(dedupeKey(e)).digest('hex').slice(0, 32)}`;
}
