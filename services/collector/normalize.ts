import { randomUUID } from 'node:crypto';
import type { EventType, Exposure, FailureReason, TrackingEvent } from '../common/records';
import type { FieldError } from '../common/serde';
import { anonymizeIp } from './anonymize-ip';
import {
  addReason,
  checkEventTime,
  checkId,
  checkObject,
  describe,
  parseTimestamp,
  reason,
  type Limits,
} from './rules';

export const EVENT_TYPES: readonly EventType[] = ['track', 'identify', 'page', 'screen', 'group', 'alias'];

/** The Segment A/B testing spec's exposure event. */
export const EXPERIMENT_VIEWED = 'Experiment Viewed';

/** What the collector knows about the request an event arrived in. */
export interface Edge {
  receivedAt: number;
  sourceId: string;
  /** The client's address as seen by the server (or the proxy's X-Forwarded-For when trusted). */
  ip: string | undefined;
  userAgent: string | undefined;
  anonymizeIp: boolean;
  /** A batch's own sentAt and context, which apply to each of its events. */
  batchSentAt?: unknown;
  batchContext?: unknown;
}

export type Normalized =
  | { ok: true; messageId: string; event: TrackingEvent; exposure: Exposure | null }
  | { ok: false; messageId: string; reasons: FailureReason[] };

/** Checks a record against the raw-events Avro schema (the serde's validate). */
export type SchemaCheck = (event: TrackingEvent) => FieldError[];

type Json = Record<string, unknown>;
const absent = (v: unknown) => v === undefined || v === null || v === '';
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Turns one Segment-shaped event into the records the collector writes, or into every
 * reason it cannot: semantic rules first, then the Avro schema. `type` is the endpoint's
 * call type (/v1/track...), undefined for batch items, which carry their own.
 *
 * At the edge: a messageId is assigned when absent, receivedAt is set, the timestamp is
 * corrected for client clock skew (timestamp + (receivedAt - sentAt)), the IP is
 * anonymised and the user agent kept in context.
 */
export function normalize(
  raw: unknown,
  type: EventType | undefined,
  edge: Edge,
  limits: Limits,
  schemaCheck: SchemaCheck,
): Normalized {
  if (!isObject(raw)) {
    return {
      ok: false,
      messageId: randomUUID(),
      reasons: [reason('invalid_type', '', `an event is a JSON object, got ${describe(raw)}`)],
    };
  }
  const reasons: FailureReason[] = [];
  const given = raw.messageId;
  const messageId = given === undefined || given === null || given === '' ? randomUUID() : given;
  checkId(messageId, 'messageId', limits, reasons);
  const shownId = typeof messageId === 'string' ? messageId : randomUUID();

  const callType = type ?? callTypeOf(raw.type, reasons);
  const userId = checkId(raw.userId, 'userId', limits, reasons);
  const anonymousId = checkId(raw.anonymousId, 'anonymousId', limits, reasons);
  const unitId = userId ?? anonymousId;
  // Both absent; an identity of the wrong type is the schema check's to report.
  if (absent(raw.userId) && absent(raw.anonymousId)) {
    addReason(reasons, reason('missing_identity', 'userId', 'userId or anonymousId is required'));
  }

  const name = eventName(raw, callType, limits, reasons);
  checkObject(raw.properties, 'properties', limits, reasons);
  const hasTraits = callType === 'identify' || callType === 'group';
  if (hasTraits) checkObject(raw.traits, 'traits', limits, reasons);
  checkObject(raw.context, 'context', limits, reasons);
  const context = edgeContext(raw.context, edge, reasons);

  // RudderStack clients send the device time as originalTimestamp (and no timestamp).
  const timeField =
    raw.timestamp === undefined && raw.originalTimestamp !== undefined ? 'originalTimestamp' : 'timestamp';
  const originalTimestamp = parseTimestamp(raw[timeField], timeField, reasons);
  const sentAt = parseTimestamp(raw.sentAt ?? edge.batchSentAt, 'sentAt', reasons);
  const timestamp =
    originalTimestamp === null
      ? edge.receivedAt
      : sentAt === null
        ? originalTimestamp
        : originalTimestamp + (edge.receivedAt - sentAt);
  checkEventTime(timestamp, edge.receivedAt, limits, reasons);

  // Serialise only input that passed the structural checks: JSON.stringify recurses, and
  // hostile nesting would overflow the stack. Rejected events keep placeholders instead.
  const structurallySound = reasons.length === 0;
  const properties = isObject(raw.properties) ? raw.properties : {};
  const propertiesJson = structurallySound ? JSON.stringify(properties) : '{}';
  const contextJson = structurallySound ? JSON.stringify(context) : '{}';
  const traitsJson = !hasTraits
    ? null
    : structurallySound && isObject(raw.traits)
      ? JSON.stringify(raw.traits)
      : '{}';
  const bytes = utf8Bytes([propertiesJson, contextJson, traitsJson ?? ''], limits.maxEventBytes);
  if (bytes > limits.maxEventBytes) {
    addReason(
      reasons,
      reason('too_large', '', `${bytes} bytes of JSON, the limit is ${limits.maxEventBytes}`),
    );
  }

  const event = {
    messageId,
    type: callType ?? 'track',
    event: name,
    // Pass wrong types through so the Avro check names them with their path.
    userId: userId ?? (typeof raw.userId === 'string' ? null : (raw.userId ?? null)),
    anonymousId: anonymousId ?? (typeof raw.anonymousId === 'string' ? null : (raw.anonymousId ?? null)),
    unitId: unitId ?? '',
    timestamp,
    originalTimestamp,
    sentAt,
    receivedAt: edge.receivedAt,
    value: numericValue(properties),
    properties: propertiesJson,
    traits: traitsJson,
    context: contextJson,
    sourceId: edge.sourceId,
  } as TrackingEvent;
  const reported = new Set(reasons.map((r) => r.path));
  for (const e of schemaCheck(event)) {
    if (!reported.has(e.path)) addReason(reasons, reason('schema_violation', e.path, e.message));
  }

  const exposure =
    callType === 'track' && name === EXPERIMENT_VIEWED
      ? exposureOf(event, properties, propertiesJson, reasons)
      : null;
  if (reasons.length > 0) return { ok: false, messageId: shownId, reasons };
  return { ok: true, messageId: shownId, event, exposure };
}

/**
 * The event's numeric value: properties.value, else properties.revenue, when it is a finite
 * number or a numeric string ("12.5"). Derived here once; the enricher, the sink and the
 * views read the Avro field and never look at the properties again.
 */
export function numericValue(properties: Json): number | null {
  for (const key of ['value', 'revenue']) {
    const v = properties[key];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    if (typeof v === 'string' && v.trim() !== '') {
      const n = Number(v);
      if (Number.isFinite(n)) return n;
    }
  }
  return null;
}

/** UTF-8 size of the texts, counted only when their length alone cannot show it is within `limit`. */
function utf8Bytes(texts: string[], limit: number): number {
  const chars = texts.reduce((n, t) => n + t.length, 0);
  return chars * 3 <= limit ? chars : texts.reduce((n, t) => n + Buffer.byteLength(t), 0);
}

function callTypeOf(value: unknown, out: FailureReason[]): EventType | undefined {
  if (EVENT_TYPES.includes(value as EventType)) return value as EventType;
  addReason(
    out,
    value === undefined
      ? reason('missing_property', 'type', `type is required in a batch: one of ${EVENT_TYPES.join(', ')}`)
      : reason('invalid_value', 'type', `expected one of ${EVENT_TYPES.join(', ')}`),
  );
  return undefined;
}

/** The event name of a track call, the page or screen name; null for other calls. */
function eventName(
  raw: Json,
  type: EventType | undefined,
  limits: Limits,
  out: FailureReason[],
): string | null {
  if (type === 'track') {
    if (typeof raw.event !== 'string' || raw.event === '') {
      addReason(
        out,
        raw.event === undefined
          ? reason('missing_property', 'event', 'a track call needs an event name')
          : reason('invalid_type', 'event', `expected a non-empty string, got ${describe(raw.event)}`),
      );
      return null;
    }
    return checkId(raw.event, 'event', limits, out);
  }
  if (type === 'page' || type === 'screen') {
    if (raw.name !== undefined && raw.name !== null && typeof raw.name !== 'string') {
      addReason(out, reason('invalid_type', 'name', `expected a string, got ${describe(raw.name)}`));
      return null;
    }
    return checkId(raw.name, 'name', limits, out);
  }
  return null;
}

/** The event's context with the batch's context under it, the anonymised IP and the user agent. */
function edgeContext(given: unknown, edge: Edge, out: FailureReason[]): Json {
  const context: Json = {
    ...(isObject(edge.batchContext) ? edge.batchContext : {}),
    ...(isObject(given) ? given : {}),
  };
  const ip = context.ip ?? edge.ip;
  if (ip === undefined || ip === null) {
    delete context.ip;
  } else if (typeof ip !== 'string' || anonymizeIp(ip) === null) {
    addReason(out, reason('invalid_value', 'context.ip', 'expected an IPv4 or IPv6 address'));
  } else {
    context.ip = edge.anonymizeIp ? anonymizeIp(ip) : ip;
  }
  if (context.userAgent === undefined && edge.userAgent !== undefined) context.userAgent = edge.userAgent;
  return context;
}

/** The Exposure of an `Experiment Viewed` event; experiment_id and variation_id are required. */
function exposureOf(
  event: TrackingEvent,
  properties: Json,
  json: string,
  out: FailureReason[],
): Exposure | null {
  const experimentKey = idProperty(properties, 'experiment_id', out);
  const variationId = idProperty(properties, 'variation_id', out);
  if (experimentKey === null || variationId === null) return null;
  return {
    messageId: event.messageId,
    unitId: event.unitId,
    experimentKey,
    variationId,
    timestamp: event.timestamp,
    receivedAt: event.receivedAt,
    origin: 'collector',
    attributes: json,
  };
}

// Some tools send variation ids as numbers (an index); they are kept as their decimal text.
function idProperty(properties: Json, key: string, out: FailureReason[]): string | null {
  const value = properties[key];
  if ((typeof value === 'string' && value !== '') || (typeof value === 'number' && Number.isFinite(value))) {
    return String(value);
  }
  addReason(
    out,
    value === undefined
      ? reason('missing_property', `properties.${key}`, `${EXPERIMENT_VIEWED} needs ${key}`)
      : reason(
          'invalid_type',
          `properties.${key}`,
          `expected a non-empty string or a number, got ${describe(value)}`,
        ),
  );
  return null;
}
