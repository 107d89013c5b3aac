import type { Flag, Segment } from '@xp-platform/evaluation';

/** What the registry serves on /sdk/v1/payload and streams on /sdk/v1/stream. */
export interface Payload {
  environment: string;
  flags: Record<string, Flag>;
  segments: Record<string, Segment>;
}

/** Whether a parsed JSON value has the payload's shape (flags and segments as objects). */
export function isPayload(value: unknown): value is Payload {
  if (typeof value !== 'object' || value === null) return false;
  const p = value as Record<string, unknown>;
  return (
    typeof p.environment === 'string' &&
    typeof p.flags === 'object' &&
    p.flags !== null &&
    !Array.isArray(p.flags) &&
    typeof p.segments === 'object' &&
    p.segments !== null &&
    !Array.isArray(p.segments)
  );
}

/** Keys of flags whose configuration differs between two payloads (added, removed, changed). */
export function changedFlags(before: Payload | undefined, after: Payload): string[] {
  const keys = new Set([...Object.keys(before?.flags ?? {}), ...Object.keys(after.flags)]);
  const changed: string[] = [];
  for (const key of keys) {
    if (JSON.stringify(before?.flags[key]) !== JSON.stringify(after.flags[key])) changed.push(key);
  }
  // A segment change can change any flag's results: report every flag.
  if (before && JSON.stringify(before.segments) !== JSON.stringify(after.segments)) {
    return Object.keys(after.flags);
  }
  return changed;
}
