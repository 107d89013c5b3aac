// TypeScript shapes of the Avro records in schemas/ (timestamps are epoch milliseconds).
// test/unit/common/records.test.ts checks that samples of these types match the schemas.

export type EventType = 'track' | 'identify' | 'page' | 'screen' | 'group' | 'alias';

export interface TrackingEvent {
  messageId: string;
  type: EventType;
  event: string | null;
  userId: string | null;
  anonymousId: string | null;
  unitId: string;
  timestamp: number;
  originalTimestamp: number | null;
  sentAt: number | null;
  receivedAt: number;
  /** properties.value, else properties.revenue, as a number (derived once, at the collector). */
  value?: number | null;
  properties: string;
  traits: string | null;
  context: string;
  sourceId: string | null;
}

export interface Exposure {
  messageId: string;
  unitId: string;
  experimentKey: string;
  variationId: string;
  timestamp: number;
  receivedAt: number;
  origin: 'collector' | 'registry' | 'kafka';
  /** Set by the enricher on the clean topic: the phase running at the exposure's time. */
  phase?: number | null;
  /** Set by the enricher on the clean topic: whether a phase of a known experiment was running. */
  inRunningPhase?: boolean | null;
  attributes: string | null;
}

export interface EnrichedEvent {
  eventId: string;
  unitId: string;
  event: string;
  value: number | null;
  timestamp: number;
  experimentKey: string;
  variationId: string;
  phase: number;
  exposedAt: number;
  multipleVariants: boolean;
  late: boolean;
  sourceTopic: string;
  sourcePartition: number;
  sourceOffset: number;
}

export interface WindowAggregate {
  experimentKey: string;
  variationId: string;
  metric: string | null;
  windowStart: number;
  windowEnd: number;
  events: number;
  units: number;
  valueSum: number;
  valueSumSquares: number;
  exposedUnits: number;
  partition: number;
}

export interface RegistryChange {
  sequence: number;
  entityType: 'flag' | 'experiment';
  key: string;
  version: number;
  action: string;
  actor: string;
  changedAt: number;
  snapshot: string | null;
}

export interface FailureReason {
  code: string;
  path: string;
  message: string;
}

export interface FailedEvent {
  failureId: string;
  stage: 'collector' | 'enricher' | 'sink' | 'registry';
  failedAt: number;
  messageId: string | null;
  payload: Buffer;
  reasons: FailureReason[];
  sourceId: string | null;
  sourceTopic: string | null;
  sourcePartition: number | null;
  sourceOffset: number | null;
}
