import type { FailureReason } from '../common/records';
import { LONE_SURROGATE, NON_FINITE, isWellFormed } from '../common/strict-json';

/** Semantic limits on one event, beyond what the Avro schema says. */
export interface Limits {
  /** Nesting depth of objects and arrays inside properties, traits and context. */
  maxDepth: number;
  /** Keys of one object, or items of one array. */
  maxKeys: number;
  /** Characters of one key. */
  maxKeyLength: number;
  /** Characters of one string value. */
  maxStringLength: number;
  /** Characters of messageId, userId, anonymousId and the event name. */
  maxIdLength: number;
  /** UTF-8 bytes of one event as stored (properties, traits and context JSON plus ids). */
  maxEventBytes: number;
  /** How far past receivedAt a (skew-corrected) timestamp may lie. */
  maxFutureMs: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxDepth: 8,
  maxKeys: 300,
  maxKeyLength: 256,
  maxStringLength: 8192,
  maxIdLength: 256,
  maxEventBytes: 32 * 1024,
  maxFutureMs: 24 * 3600 * 1000,
};

/** Timestamps before this are taken for mistakes (seconds sent as milliseconds, a zero date). */
export const MIN_TIMESTAMP = Date.UTC(2000, 0, 1);

/** Reasons kept per event: enough to fix the input, bounded for hostile input. */
export const MAX_REASONS = 20;

export const reason = (code: string, path: string, message: string): FailureReason => ({
  code,
  path,
  message,
});

/** Appends `r` unless the event already has MAX_REASONS reasons. */
export function addReason(out: FailureReason[], r: FailureReason): void {
  if (out.length < MAX_REASONS) out.push(r);
}

/** A path segment safe to echo back however long or odd the key is. */
function segment(key: string): string {
  return key.length > 64 ? `${key.slice(0, 64)}…` : key;
}

export const describe = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'array' : value === '' ? 'an empty string' : typeof value;

/**
 * Checks a free-form JSON object (properties, traits, context): it must be an object when
 * present, and stay within the depth, key count, key length and string length limits.
 * Never descends past maxDepth, so hostile nesting costs no more than legal nesting.
 */
export function checkObject(value: unknown, path: string, limits: Limits, out: FailureReason[]): void {
  if (value === undefined || value === null) return;
  if (typeof value !== 'object' || Array.isArray(value)) {
    addReason(out, reason('invalid_type', path, `expected an object, got ${describe(value)}`));
    return;
  }
  walk(value, path, 1, limits, out);
}

function walk(value: unknown, path: string, depth: number, limits: Limits, out: FailureReason[]): void {
  if (out.length >= MAX_REASONS) return;
  if (typeof value === 'number') {
    // JSON.parse reads 1e400 as Infinity, which would be stored as null: refuse, never change.
    if (!Number.isFinite(value)) addReason(out, reason('invalid_number', path, NON_FINITE));
    return;
  }
  if (typeof value === 'string') {
    // Policy: reject, not replace (README): a lone surrogate cannot be stored in BigQuery,
    // and replacing it with U+FFFD would change the data without telling the sender.
    if (!isWellFormed(value)) addReason(out, reason('invalid_text', path, LONE_SURROGATE));
    if (value.length > limits.maxStringLength) {
      addReason(
        out,
        reason(
          'too_long',
          path,
          `string of ${value.length} characters, the limit is ${limits.maxStringLength}`,
        ),
      );
    }
    return;
  }
  if (value === null || typeof value !== 'object') return;
  if (depth > limits.maxDepth) {
    addReason(out, reason('too_deep', path, `nested deeper than ${limits.maxDepth} levels`));
    return;
  }
  if (Array.isArray(value)) {
    if (value.length > limits.maxKeys) {
      addReason(out, reason('too_many_keys', path, `${value.length} items, the limit is ${limits.maxKeys}`));
      return;
    }
    for (let i = 0; i < value.length; i++) walk(value[i], `${path}.${i}`, depth + 1, limits, out);
    return;
  }
  const keys = Object.keys(value);
  if (keys.length > limits.maxKeys) {
    addReason(out, reason('too_many_keys', path, `${keys.length} keys, the limit is ${limits.maxKeys}`));
    return;
  }
  for (const key of keys) {
    const child = `${path}.${segment(key)}`;
    if (key.length > limits.maxKeyLength) {
      addReason(
        out,
        reason('too_long', child, `key of ${key.length} characters, the limit is ${limits.maxKeyLength}`),
      );
      continue;
    }
    if (!isWellFormed(key)) {
      addReason(out, reason('invalid_text', child, `key ${LONE_SURROGATE}`));
      continue;
    }
    walk((value as Record<string, unknown>)[key], child, depth + 1, limits, out);
  }
}

/** An optional identifier: a non-empty string within maxIdLength; '' counts as absent. */
export function checkId(value: unknown, path: string, limits: Limits, out: FailureReason[]): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string') return null; // the Avro check reports the type with its path
  if (!isWellFormed(value)) addReason(out, reason('invalid_text', path, LONE_SURROGATE));
  if (value.length > limits.maxIdLength) {
    addReason(
      out,
      reason('too_long', path, `${value.length} characters, the limit is ${limits.maxIdLength}`),
    );
  }
  return value;
}

// ISO-8601 as Segment clients send it (Date#toJSON), with some leniency: a space for T,
// any number of fraction digits, a missing zone (read as UTC) or a date alone.
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/** Epoch ms of an ISO-8601 timestamp; null when absent or (with a reason) when unparseable. */
export function parseTimestamp(value: unknown, path: string, out: FailureReason[]): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string' && value.length === 24) {
    const fast = parseCanonical(value);
    if (fast !== null) return fast;
  }
  const text = typeof value === 'string' && value.length <= 40 ? value : '';
  const match = ISO_8601.exec(text);
  // Date.parse rolls impossible days over (2026-02-31 becomes 2026-03-03): check the calendar.
  const ms =
    match && realDate(text)
      ? Date.parse(match[1] === undefined && text.length > 10 ? `${text}Z` : text)
      : NaN;
  if (Number.isNaN(ms)) {
    const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : describe(value);
    addReason(out, reason('invalid_timestamp', path, `expected an ISO-8601 date-time, got ${shown}`));
    return null;
  }
  return ms;
}

/** Whether the `YYYY-MM-DD` at the start of `s` names a day that exists. */
function realDate(s: string): boolean {
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 7);
  const day = digits(s, 8, 10);
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

/** Days of `month` (1-12) in `year`, leap years included. */
function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

const digits = (s: string, from: number, to: number): number => {
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return NaN;
    n = n * 10 + d;
  }
  return n;
};

/**
 * `YYYY-MM-DDTHH:MM:SS.sssZ`, what Date#toJSON writes and nearly every client sends, read
 * without Date.parse (the slowest step of normalising an event); null for anything else.
 */
function parseCanonical(s: string): number | null {
  if (
    s[4] !== '-' ||
    s[7] !== '-' ||
    s[10] !== 'T' ||
    s[13] !== ':' ||
    s[16] !== ':' ||
    s[19] !== '.' ||
    s[23] !== 'Z'
  ) {
    return null;
  }
  const month = digits(s, 5, 7);
  const day = digits(s, 8, 10);
  const hour = digits(s, 11, 13);
  const minute = digits(s, 14, 16);
  const second = digits(s, 17, 19);
  // Out-of-range parts go to the general path, which rejects them.
  if (!(month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour < 24 && minute < 60 && second < 60))
    return null;
  if (day > 28 && day > daysInMonth(digits(s, 0, 4), month)) return null; // the general path refuses it
  const ms = Date.UTC(digits(s, 0, 4), month - 1, day, hour, minute, second, digits(s, 20, 23));
  return Number.isNaN(ms) ? null : ms;
}

/** The event time must be plausible: not before 2000 and not far past the time it was received. */
export function checkEventTime(
  timestamp: number,
  receivedAt: number,
  limits: Limits,
  out: FailureReason[],
): void {
  if (timestamp > receivedAt + limits.maxFutureMs) {
    addReason(
      out,
      reason(
        'timestamp_in_future',
        'timestamp',
        `${iso(timestamp)} (after clock-skew correction) is more than ${limits.maxFutureMs} ms after receipt`,
      ),
    );
  } else if (timestamp < MIN_TIMESTAMP) {
    addReason(out, reason('timestamp_out_of_range', 'timestamp', `${iso(timestamp)} is before 2000-01-01`));
  }
}

/** ISO text of a time that may lie outside Date's range (skew correction can push it there). */
function iso(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? `${ms} ms since epoch` : date.toISOString();
}
