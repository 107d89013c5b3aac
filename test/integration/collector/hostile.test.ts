import { gzipSync } from 'node:zlib';
import type { FailedEvent } from '../../../services/common/records';
import { basicAuth, readAll, send, startCollector, type Harness } from './harness';

// 10k malformed or hostile requests: each gets a 4xx with a reason, the collector stays up
// with bounded memory, and every rejected input with a readable body and a valid key is
// in the failed-events topic with its reason.

interface Case {
  name: string;
  path: string;
  body: string | Buffer;
  headers?: Record<string, string>;
  status: number;
  /** The answer's error code. */
  error: string;
  /** Where the failed event can be found (messageId or a marker in its payload), with its reason. */
  failed?: { messageId?: string; marker?: string; code: string };
}

const TOTAL = 10_000;
const run = Date.now().toString(36);
const json = { 'content-type': 'application/json' };

let deep = '1';
for (let i = 0; i < 5_000; i++) deep = `{"d":${deep}}`;
const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20));
const validGzip = gzipSync(JSON.stringify({ batch: [{ type: 'track', userId: 'u', event: 'e' }] }));

// Each generator makes case i of its kind; weights keep the heavy ones (1 MiB bodies) few.
const kinds: { weight: number; make: (i: number) => Case }[] = [
  {
    weight: 10,
    make: (i) => ({
      name: 'wrong types',
      path: '/v1/track',
      body: JSON.stringify({ messageId: `${run}-types-${i}`, userId: i, event: ['x'], properties: 'p' }),
      status: 400,
      error: 'invalid_events',
      failed: { messageId: `${run}-types-${i}`, code: 'invalid_type' },
    }),
  },
  {
    weight: 10,
    make: (i) => ({
      name: 'bad timestamps and types in a batch',
      path: '/v1/batch',
      body: JSON.stringify({
        batch: [
          { type: 'purchase', messageId: `${run}-batch-${i}`, userId: 'u' },
          { type: 'track', messageId: `${run}-batch-${i}-t`, userId: 'u', event: 'e', timestamp: 'tomorrow' },
        ],
      }),
      status: 400,
      error: 'invalid_events',
      failed: { messageId: `${run}-batch-${i}-t`, code: 'invalid_timestamp' },
    }),
  },
  {
    weight: 8,
    make: (i) => ({
      name: 'huge strings',
      path: '/v1/track',
      body: JSON.stringify({
        messageId: `${run}-huge-${i}`,
        userId: 'u',
        event: 'e',
        properties: { s: 'x'.repeat(50_000) },
      }),
      status: 400,
      error: 'invalid_events',
      failed: { messageId: `${run}-huge-${i}`, code: 'too_long' },
    }),
  },
  {
    weight: 4,
    make: (i) => ({
      name: 'deep nesting',
      path: '/v1/track',
      body: `{"messageId":"${run}-deep-${i}","userId":"u","event":"e","properties":${deep}}`,
      status: 400,
      error: 'invalid_events',
      failed: { messageId: `${run}-deep-${i}`, code: 'too_deep' },
    }),
  },
  {
    weight: 6,
    make: (i) => ({
      name: 'prototype keys and too many keys',
      path: '/v1/track',
      body: JSON.stringify({
        messageId: `${run}-keys-${i}`,
        userId: 'u',
        event: 'e',
        context: JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}'),
        properties: Object.fromEntries(Array.from({ length: 400 }, (_, k) => [`k${k}`, k])),
      }),
      status: 400,
      error: 'invalid_events',
      failed: { messageId: `${run}-keys-${i}`, code: 'too_many_keys' },
    }),
  },
  {
    weight: 8,
    make: (i) => ({
      name: 'malformed JSON',
      path: '/v1/batch',
      body: `{"marker":"${run}-json-${i}", "batch": [{"type": "track",, ]}`,
      status: 400,
      error: 'invalid_json',
      failed: { marker: `${run}-json-${i}`, code: 'invalid_json' },
    }),
  },
  {
    weight: 6,
    make: (i) => ({
      name: 'not an object',
      path: i % 2 ? '/v1/track' : '/v1/batch',
      body: i % 2 ? `["${run}-array-${i}"]` : `{"batch":"${run}-array-${i}"}`,
      status: 400,
      error: 'invalid_body',
      failed: { marker: `${run}-array-${i}`, code: 'invalid_body' },
    }),
  },
  {
    weight: 6,
    make: () => ({
      name: 'invalid UTF-8',
      path: '/v1/track',
      body: Buffer.concat([
        Buffer.from('{"userId":"'),
        Buffer.from([0xc3, 0x28, 0xff]),
        Buffer.from('","event":"e"}'),
      ]),
      status: 400,
      error: 'invalid_utf8',
    }),
  },
  {
    weight: 6,
    make: (i) => ({
      name: 'wrong content type',
      path: '/v1/track',
      body: '<event/>',
      headers: {
        'content-type': ['application/xml', 'multipart/form-data; boundary=x', 'image/png'][i % 3]!,
      },
      status: 415,
      error: 'unsupported_media_type',
    }),
  },
  {
    weight: 6,
    make: () => ({
      name: 'truncated gzip',
      path: '/v1/batch',
      body: validGzip.subarray(0, validGzip.length - 9),
      headers: { 'content-encoding': 'gzip' },
      status: 400,
      error: 'invalid_gzip',
    }),
  },
  {
    weight: 1,
    make: () => ({
      name: 'gzip bomb',
      path: '/v1/batch',
      body: bomb,
      headers: { 'content-encoding': 'gzip' },
      status: 413,
      error: 'payload_too_large',
    }),
  },
  {
    weight: 1,
    make: () => ({
      name: 'oversized body',
      path: '/v1/track',
      body: JSON.stringify({ userId: 'u', event: 'e', properties: { s: 'x'.repeat(1024 * 1024) } }),
      status: 413,
      error: 'payload_too_large',
    }),
  },
  {
    weight: 8,
    make: () => ({
      name: 'missing auth',
      path: '/v1/track',
      body: JSON.stringify({ userId: 'u', event: 'e' }),
      headers: { authorization: '' },
      status: 401,
      error: 'missing_write_key',
    }),
  },
  {
    weight: 6,
    make: (i) => ({
      name: 'unknown key',
      path: '/v1/batch',
      body: JSON.stringify({ batch: [{ type: 'track', userId: 'u', event: 'e' }] }),
      headers: { authorization: basicAuth(`guess-${i}-xxxxxxxx`) },
      status: 401,
      error: 'unknown_write_key',
    }),
  },
  {
    weight: 4,
    make: () => ({
      name: 'empty body',
      path: '/v1/identify',
      body: '',
      status: 400,
      error: 'invalid_json',
    }),
  },
];

function cases(): Case[] {
  const slots = kinds.flatMap((k) => Array<typeof k>(k.weight).fill(k));
  return Array.from({ length: TOTAL }, (_, i) => slots[i % slots.length]!.make(i));
}

describe('collector under 10k hostile requests', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startCollector();
  });
  afterAll(() => h.close());

  it('answers each with a 4xx and a reason, stays up with bounded memory, and keeps readable rejects', async () => {
    const all = cases();
    const wrong: string[] = [];
    const rss: number[] = [];
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < all.length; i = next++) {
        const c = all[i]!;
        const res = await send(h, c.path, c.body, { ...json, ...c.headers }).catch((err: Error) => ({
          status: 0,
          json: { error: err.message } as Record<string, unknown>,
        }));
        if (res.status !== c.status || res.json.error !== c.error || typeof res.json.message !== 'string') {
          if (wrong.length < 20)
            wrong.push(`${c.name}: ${res.status} ${JSON.stringify(res.json).slice(0, 200)}`);
        }
        if (i % 1000 === 0) rss.push(process.memoryUsage().rss);
      }
    };
    const started = Date.now();
    await Promise.all(Array.from({ length: 16 }, worker));
    const seconds = (Date.now() - started) / 1000;
    rss.push(process.memoryUsage().rss);
    const mb = rss.map((b) => Math.round(b / 2 ** 20));
    console.log(`${TOTAL} hostile requests in ${seconds.toFixed(1)} s; RSS MB every 1000: ${mb.join(' ')}`);
    expect(wrong).toEqual([]);

    // Still up and still accepting.
    expect((await fetch(`${h.url}/healthz`)).status).toBe(200);
    const ok = await send(h, '/v1/track', { userId: 'u', event: 'still alive' });
    expect(ok.status).toBe(200);
    // Memory bounded: the test process holds the payloads too; growth stays far below what
    // 10k requests (hundreds of MB of bodies, 64 MiB gzip bombs) would retain if leaked.
    expect(Math.max(...mb) - mb[0]!).toBeLessThan(300);
    expect(h.publisher.inFlight).toBe(0);

    const failed = await readAll<FailedEvent>(h, h.topics.failedEvents, 60_000);
    const codesById = new Map<string, string[]>();
    const codesByMarker = new Map<string, string[]>();
    for (const { value } of failed) {
      const codes = value.reasons.map((r) => r.code);
      if (value.messageId) codesById.set(value.messageId, codes);
      // A literal prefix keeps the regex linear on the 50 kB strings some payloads hold.
      const marker = new RegExp(`${run}-(?:json|array)-\\d+`).exec(value.payload.toString())?.[0];
      if (marker) codesByMarker.set(marker, codes);
    }
    const expected = all.filter((c) => c.failed);
    const missing = expected.filter((c) => {
      const codes = c.failed!.messageId
        ? codesById.get(c.failed!.messageId)
        : codesByMarker.get(c.failed!.marker!);
      return !codes?.includes(c.failed!.code);
    });
    expect(expected.length).toBeGreaterThan(5_000);
    expect(missing.slice(0, 5).map((c) => `${c.name}: ${c.failed!.messageId ?? c.failed!.marker}`)).toEqual(
      [],
    );
  });
});
