// Deterministic bucketing shared by the server and every SDK (docs/evaluation.md is the
// spec): MurmurHash3 x86_32, seed 0, over the UTF-8 bytes of `<salt>:<unit>`, divided by 2^32.
// Hashing bytes rather than UTF-16 code units is what lets SDKs in other languages agree.

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;
const TWO_POW_32 = 4294967296;
// A module binding rather than a global lookup on every call: in sandboxes such as Jest's
// vm contexts, reading a global goes through an interceptor and costs far more than the hash.
const imul = Math.imul;

/** MurmurHash3 x86_32 of `bytes[0..length)`, as an unsigned 32-bit integer. */
export function murmur3(bytes: Uint8Array, seed = 0, length = bytes.length): number {
  let h = seed | 0;
  const blocks = length & ~3;
  let i = 0;
  for (; i < blocks; i += 4) {
    let k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    k = imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = imul(k, C2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = length & 3;
  if (tail !== 0) {
    let k = 0;
    if (tail === 3) k ^= bytes[i + 2]! << 16;
    if (tail >= 2) k ^= bytes[i + 1]! << 8;
    k ^= bytes[i]!;
    k = imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = imul(k, C2);
    h ^= k;
  }
  h ^= length;
  h ^= h >>> 16;
  h = imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

// One scratch buffer reused by every call: bucketing runs per flag per user, and
// allocating an encoded copy each time would dominate the cost. Evaluation is
// synchronous, so sharing it is safe.
let scratch = new Uint8Array(256);

/** Writes the UTF-8 encoding of `s` at `at`, returns the end offset. Matches TextEncoder. */
function writeUtf8(s: string, buf: Uint8Array, at: number): number {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      buf[at++] = c;
    } else if (c < 0x800) {
      buf[at++] = 0xc0 | (c >> 6);
      buf[at++] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c <= 0xdfff) {
        const next = i + 1 < n ? s.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
          i++;
          buf[at++] = 0xf0 | (c >> 18);
          buf[at++] = 0x80 | ((c >> 12) & 0x3f);
          buf[at++] = 0x80 | ((c >> 6) & 0x3f);
          buf[at++] = 0x80 | (c & 0x3f);
          continue;
        }
        c = 0xfffd; // a lone surrogate encodes as U+FFFD, as TextEncoder does
      }
      buf[at++] = 0xe0 | (c >> 12);
      buf[at++] = 0x80 | ((c >> 6) & 0x3f);
      buf[at++] = 0x80 | (c & 0x3f);
    }
  }
  return at;
}

/** MurmurHash3 x86_32 (seed 0) of the UTF-8 encoding of `s`. */
export function hashString(s: string): number {
  ensureCapacity(s.length * 3);
  return murmur3(scratch, 0, writeUtf8(s, scratch, 0));
}

/** The unit's position in [0, 1) for this salt: murmur3(utf8(salt + ':' + unit)) / 2^32. */
export function bucket(salt: string, unit: string): number {
  return prefixedBucket('', salt, unit);
}

/** bucket(prefix + salt, unit), without allocating the concatenated salt. */
export function prefixedBucket(prefix: string, salt: string, unit: string): number {
  // Each UTF-16 code unit takes at most 3 UTF-8 bytes.
  ensureCapacity((prefix.length + salt.length + unit.length + 1) * 3);
  let end = writeUtf8(prefix, scratch, 0);
  end = writeUtf8(salt, scratch, end);
  scratch[end++] = 0x3a; // ':'
  end = writeUtf8(unit, scratch, end);
  return murmur3(scratch, 0, end) / TWO_POW_32;
}

function ensureCapacity(bytes: number): void {
  if (bytes > scratch.length) scratch = new Uint8Array(Math.max(bytes, scratch.length * 2));
}
