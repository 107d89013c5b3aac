import { gzipSync } from 'node:zlib';
import { decodeBody } from '../../../services/collector/body';

const MAX = 1024 * 1024;

describe('decodeBody', () => {
  it('parses JSON, plain or gzip, with or without a BOM', async () => {
    expect(await decodeBody(Buffer.from('{"a":1}'), undefined, MAX)).toEqual({
      ok: true,
      value: { a: 1 },
      bytes: 7,
      text: Buffer.from('{"a":1}'),
    });
    expect(await decodeBody(gzipSync('{"a":[1,2]}'), 'gzip', MAX)).toMatchObject({
      ok: true,
      value: { a: [1, 2] },
    });
    expect(await decodeBody(Buffer.from('\ufeff{"a":1}'), 'identity', MAX)).toMatchObject({ ok: true });
  });

  it('gives the position of a JSON syntax error', async () => {
    expect(await decodeBody(Buffer.from('{"a": 1,}'), undefined, MAX)).toEqual({
      ok: false,
      error: expect.objectContaining({ status: 400, code: 'invalid_json', position: 8 }),
      text: Buffer.from('{"a": 1,}'),
    });
    const truncated = await decodeBody(Buffer.from('{"a": [1, 2'), undefined, MAX);
    expect(truncated).toMatchObject({ ok: false, error: { code: 'invalid_json', position: 11 } });
  });

  it('refuses invalid UTF-8, truncated gzip and unknown encodings', async () => {
    const bad = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]);
    expect(await decodeBody(bad, undefined, MAX)).toMatchObject({
      ok: false,
      error: { status: 400, code: 'invalid_utf8' },
    });
    const gz = gzipSync(JSON.stringify({ a: 'x'.repeat(1000) }));
    expect(await decodeBody(gz.subarray(0, gz.length - 10), 'gzip', MAX)).toMatchObject({
      ok: false,
      error: { status: 400, code: 'invalid_gzip' },
    });
    expect(await decodeBody(Buffer.from('{}'), 'br', MAX)).toMatchObject({
      ok: false,
      error: { status: 415, code: 'unsupported_encoding' },
    });
  });

  it('stops a gzip bomb at the limit with 413', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20)); // 64 MiB of spaces in ~64 KiB
    expect(bomb.length).toBeLessThan(MAX);
    const before = process.memoryUsage().arrayBuffers;
    expect(await decodeBody(bomb, 'gzip', MAX)).toMatchObject({
      ok: false,
      error: { status: 413, code: 'payload_too_large' },
    });
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024);
  });
});
