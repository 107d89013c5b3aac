// The language-neutral cases (cases/cases.json) against the reference core. Every SDK's
// suite runs the same file through its own public API.
import cases from '../cases/cases.json';
import { bucket, evaluate, hashString, murmur3, type EvaluationContext, type Flag } from '../src';

interface EvaluationCase {
  group: string;
  name: string;
  payload: { environment: string; flags: Record<string, Flag>; segments: Record<string, never> };
  flag: string;
  context: EvaluationContext;
  expected: Record<string, unknown>;
}

const utf8 = new TextEncoder();

describe('cases.json', () => {
  it.each(cases.hashing.map((c) => [c.input, c]))('hashes %j', (_, c) => {
    const bytes = utf8.encode(c.input);
    expect(Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')).toBe(c.utf8Hex);
    expect(murmur3(bytes)).toBe(c.murmur3);
    expect(hashString(c.input)).toBe(c.murmur3);
  });

  it.each(cases.bucketing.map((c) => [c.salt, c.unit, c]))('buckets %j %j', (_, __, c) => {
    expect(bucket(c.salt, c.unit)).toBe(c.bucket);
    expect(c.bucket).toBe(c.murmur3 / 2 ** 32);
  });

  const evaluation = cases.evaluation as unknown as EvaluationCase[];
  it.each(evaluation.map((c) => [c.group, c.name, c]))('%s: %s', (_, __, c) => {
    const { environment, flags, segments } = c.payload;
    const result = evaluate(flags[c.flag]!, c.context, { environment, flags, segments });
    expect(JSON.parse(JSON.stringify(result))).toEqual(c.expected);
  });

  it('covers every group the spec names', () => {
    expect(new Set(evaluation.map((c) => c.group))).toEqual(
      new Set([
        'operators',
        'reasons',
        'segments',
        'prerequisites',
        'rollouts',
        'splits',
        'phases',
        'layers',
        'malformed',
      ]),
    );
  });
});
