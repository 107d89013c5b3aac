import type { FailureReason } from '../../../services/common/records';
import {
  DEFAULT_LIMITS,
  MAX_REASONS,
  MIN_TIMESTAMP,
  checkEventTime,
  checkId,
  checkObject,
  parseTimestamp,
  type Limits,
} from '../../../services/collector/rules';

const limits: Limits = { ...DEFAULT_LIMITS, maxDepth: 3, maxKeys: 4, maxKeyLength: 8, maxStringLength: 10 };

function check(value: unknown): FailureReason[] {
  const out: FailureReason[] = [];
  checkObject(value, 'properties', limits, out);
  return out;
}

describe('checkObject', () => {
  it('accepts objects within the limits, and absence', () => {
    expect(check({ a: 1, b: 'short', c: [1, 2], d: { e: { f: true } } })).toEqual([]);
    expect(check(undefined)).toEqual([]);
    expect(check(null)).toEqual([]);
  });

  it('wants an object', () => {
    expect(check([1])).toEqual([
      { code: 'invalid_type', path: 'properties', message: 'expected an object, got array' },
    ]);
    expect(check('x')[0]!.message).toBe('expected an object, got string');
  });

  it('reports each limit with the field path', () => {
    expect(check({ a: 'x'.repeat(11) })).toEqual([
      { code: 'too_long', path: 'properties.a', message: 'string of 11 characters, the limit is 10' },
    ]);
    expect(check({ longerthan8: 1 })[0]).toMatchObject({ code: 'too_long', path: 'properties.longerthan8' });
    expect(check({ a: 1, b: 2, c: 3, d: 4, e: 5 })[0]).toMatchObject({
      code: 'too_many_keys',
      path: 'properties',
    });
    expect(check({ list: [1, 2, 3, 4, 5] })[0]).toMatchObject({
      code: 'too_many_keys',
      path: 'properties.list',
    });
    expect(check({ a: { b: { c: { d: 1 } } } })).toEqual([
      { code: 'too_deep', path: 'properties.a.b.c', message: 'nested deeper than 3 levels' },
    ]);
    expect(check({ a: [{ b: ['x'.repeat(11)] }] })[0]).toMatchObject({
      path: 'properties.a.0.b',
      code: 'too_deep',
    });
  });

  it('stays cheap and bounded on hostile input', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = { a: deep };
    expect(check(deep)).toHaveLength(1);
    const wide = Object.fromEntries(Array.from({ length: 4 }, (_, i) => [`k${i}`, 'x'.repeat(100)]));
    expect(check({ a: wide, b: wide, c: wide })).toHaveLength(12);
    const many = Object.fromEntries(Array.from({ length: 4 }, (_, i) => [`k${i}`, wide]));
    expect(check({ a: many, b: many })).toHaveLength(MAX_REASONS);
    const huge = { [`k${'y'.repeat(10_000)}`]: 1 };
    expect(check(huge)[0]!.path.length).toBeLessThan(100);
  });
});

describe('checkId', () => {
  it('returns strings, treats empty as absent and bounds the length', () => {
    const out: FailureReason[] = [];
    expect(checkId('u1', 'userId', limits, out)).toBe('u1');
    expect(checkId('', 'userId', limits, out)).toBeNull();
    expect(checkId(undefined, 'userId', limits, out)).toBeNull();
    expect(checkId(42, 'userId', limits, out)).toBeNull(); // the type is the Avro check's to report
    expect(out).toEqual([]);
    checkId('x'.repeat(257), 'userId', limits, out);
    expect(out).toEqual([{ code: 'too_long', path: 'userId', message: '257 characters, the limit is 256' }]);
  });
});

describe('parseTimestamp', () => {
  const parse = (value: unknown) => {
    const out: FailureReason[] = [];
    return { ms: parseTimestamp(value, 'timestamp', out), out };
  };

  it('reads ISO-8601 as clients send it', () => {
    expect(parse('2024-05-01T12:00:00.000Z').ms).toBe(Date.UTC(2024, 4, 1, 12));
    expect(parse('2024-05-01T14:00:00+02:00').ms).toBe(Date.UTC(2024, 4, 1, 12));
    expect(parse('2024-05-01T12:00:00').ms).toBe(Date.UTC(2024, 4, 1, 12)); // no zone: UTC
    expect(parse('2024-05-01T12:00:00.123456Z').ms).toBe(Date.UTC(2024, 4, 1, 12, 0, 0, 123));
    expect(parse('2024-05-01').ms).toBe(Date.UTC(2024, 4, 1));
    expect(parse(undefined)).toEqual({ ms: null, out: [] });
  });

  it('rejects what is not a date-time, with the value shown', () => {
    for (const bad of [
      'yesterday',
      '1714564800000',
      '2024-13-01T00:00:00Z',
      '2024-05-01T25:00:00Z',
      1714564800000,
    ]) {
      const { ms, out } = parse(bad);
      expect(ms).toBeNull();
      expect(out[0]).toMatchObject({ code: 'invalid_timestamp', path: 'timestamp' });
    }
    expect(parse('yesterday').out[0]!.message).toBe('expected an ISO-8601 date-time, got "yesterday"');
    expect(parse('x'.repeat(1000)).out[0]!.message.length).toBeLessThan(100);
  });
});

describe('checkEventTime', () => {
  const now = Date.UTC(2026, 0, 1);
  const check = (ts: number) => {
    const out: FailureReason[] = [];
    checkEventTime(ts, now, DEFAULT_LIMITS, out);
    return out;
  };

  it('accepts the past since 2000 and the near future', () => {
    expect(check(now)).toEqual([]);
    expect(check(MIN_TIMESTAMP)).toEqual([]);
    expect(check(now + DEFAULT_LIMITS.maxFutureMs)).toEqual([]);
  });

  it('rejects the far future and absurd pasts, even outside the Date range', () => {
    expect(check(now + DEFAULT_LIMITS.maxFutureMs + 1)[0]!.code).toBe('timestamp_in_future');
    expect(check(MIN_TIMESTAMP - 1)[0]!.code).toBe('timestamp_out_of_range');
    expect(check(9e15)[0]!.message).toContain('9000000000000000 ms since epoch');
  });
});
