import { avroType, type SchemaName } from '../../../services/common/schemas';
import type {
  EnrichedEvent,
  Exposure,
  FailedEvent,
  RegistryChange,
  TrackingEvent,
  WindowAggregate,
} from '../../../services/common/records';

const t = 1_764_000_000_000;

const samples: Array<[SchemaName, unknown]> = [
  [
    'tracking-event',
    {
      messageId: 'm1',
      type: 'track',
      event: 'Order Completed',
      userId: 'u1',
      anonymousId: null,
      unitId: 'u1',
      timestamp: t,
      originalTimestamp: t,
      sentAt: t,
      receivedAt: t,
      value: 3,
      properties: '{"value":3}',
      traits: null,
      context: '{}',
      sourceId: 'web',
    } satisfies TrackingEvent,
  ],
  [
    'exposure',
    {
      messageId: 'm2',
      unitId: 'u1',
      experimentKey: 'checkout',
      variationId: 'blue',
      timestamp: t,
      receivedAt: t,
      origin: 'collector',
      phase: 2,
      inRunningPhase: true,
      attributes: null,
    } satisfies Exposure,
  ],
  [
    'enriched-event',
    {
      eventId: 'm1',
      unitId: 'u1',
      event: 'Order Completed',
      value: 3,
      timestamp: t,
      experimentKey: 'checkout',
      variationId: 'blue',
      phase: 0,
      exposedAt: t,
      multipleVariants: false,
      late: false,
      sourceTopic: 'xp.events.raw.v1',
      sourcePartition: 0,
      sourceOffset: 42,
    } satisfies EnrichedEvent,
  ],
  [
    'window-aggregate',
    {
      experimentKey: 'checkout',
      variationId: 'blue',
      metric: null,
      windowStart: t,
      windowEnd: t + 60_000,
      events: 0,
      units: 0,
      valueSum: 0,
      valueSumSquares: 0,
      exposedUnits: 5,
      partition: 0,
    } satisfies WindowAggregate,
  ],
  [
    'registry-change',
    {
      sequence: 1,
      entityType: 'experiment',
      key: 'checkout',
      version: 2,
      action: 'updated',
      actor: 'admin',
      changedAt: t,
      snapshot: '{}',
    } satisfies RegistryChange,
  ],
  [
    'failed-event',
    {
      failureId: 'f1',
      stage: 'collector',
      failedAt: t,
      messageId: null,
      payload: Buffer.from('{'),
      reasons: [{ code: 'malformed_json', path: '', message: 'unexpected end' }],
      sourceId: null,
      sourceTopic: null,
      sourcePartition: null,
      sourceOffset: null,
    } satisfies FailedEvent,
  ],
];

describe('TypeScript record shapes', () => {
  it.each(samples)('a %s sample matches the Avro schema and round-trips', (name, sample) => {
    const type = avroType(name);
    expect(type.isValid(sample)).toBe(true);
    expect(type.fromBuffer(type.toBuffer(sample))).toEqual(sample);
  });
});
