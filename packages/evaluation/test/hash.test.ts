import { bucket, hashString, murmur3 } from '../src';

// Reference values computed independently with Python's mmh3 (the C reference
// MurmurHash3_x86_32): mmh3.hash(s.encode('utf-8'), 0, signed=False).
// docs/evaluation.md publishes the same table for SDK authors.
const MURMUR3_VECTORS: Array<[string, number]> = [
  ['', 0x00000000],
  ['a', 0x3c2569b2],
  ['ab', 0x9bbfd75f],
  ['abc', 0xb3dd93fa],
  ['abcd', 0x43ed676a],
  ['hello', 0x248bfa47],
  ['héllo', 0xbc9fa068],
  ['日本', 0xc4d9f942],
  ['😀', 0xbeb42efa],
  ['The quick brown fox jumps over the lazy dog', 0x2e4ff723],
];

// bucket(salt, unit) = murmur3(utf8(salt + ':' + unit)) / 2^32, from the same source.
const BUCKET_VECTORS: Array<[string, string, number, number]> = [
  ['checkout-redesign', 'user-1', 0x851e09c1, 0.5199895950499922],
  ['checkout-redesign', 'user-2', 0x0f7e46c2, 0.060520574916154146],
  ['checkout-redesign@1', 'user-1', 0xa7dabc95, 0.6556814063806087],
  ['coverage:checkout-redesign', 'user-1', 0xc4a0b842, 0.7680773888714612],
  ['layer:homepage', 'user-1', 0xc4835fa9, 0.7676296031568199],
  ['new-onboarding', '42', 0x9221c54b, 0.5708277996163815],
  ['pricing', 'héllo', 0x7c437dfd, 0.48540484835393727],
  ['pricing', '日本', 0xb8c69834, 0.7217803122475743],
  ['pricing', '😀', 0x62baabf4, 0.38566088397055864],
  ['dark-mode', '', 0xa6d79013, 0.6517267271410674],
];

const utf8 = new TextEncoder();

describe('murmur3 (x86_32, seed 0)', () => {
  it.each(MURMUR3_VECTORS)('hashes the UTF-8 bytes of %j to the reference value', (text, expected) => {
    expect(murmur3(utf8.encode(text))).toBe(expected);
    expect(hashString(text)).toBe(expected);
  });

  it('hashes only the first `length` bytes when given a length', () => {
    expect(murmur3(utf8.encode('hello world'), 0, 5)).toBe(0x248bfa47);
  });

  it('honours a non-zero seed', () => {
    // mmh3.hash(b'hello', 1, signed=False)
    expect(murmur3(utf8.encode('hello'), 1)).toBe(0xbb4abcad);
  });

  it('encodes like TextEncoder, including lone surrogates and strings longer than the scratch buffer', () => {
    const samples = [
      'a\ud800b', // lone high surrogate → U+FFFD
      '\udc00', // lone low surrogate → U+FFFD
      '\ud83d', // high surrogate at the end
      '\u007f\u0080\u07ff\u0800\uffff',
      '\u{10000}\u{10ffff}',
      'x'.repeat(1000) + 'é'.repeat(500) + '日'.repeat(500),
    ];
    for (const s of samples) expect(hashString(s)).toBe(murmur3(utf8.encode(s)));
  });
});

describe('bucket', () => {
  it.each(BUCKET_VECTORS)('bucket(%j, %j) hashes "salt:unit"', (salt, unit, hash, expected) => {
    expect(murmur3(utf8.encode(`${salt}:${unit}`))).toBe(hash);
    expect(bucket(salt, unit)).toBe(expected);
    expect(expected).toBe(hash / 2 ** 32);
  });

  it('stays in [0, 1)', () => {
    for (let i = 0; i < 10_000; i++) {
      const b = bucket('range', `u${i}`);
      expect(b >= 0 && b < 1).toBe(true);
    }
  });

  it('depends on the salt', () => {
    expect(bucket('a', 'user-1')).not.toBe(bucket('b', 'user-1'));
  });
});
