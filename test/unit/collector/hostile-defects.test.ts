import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import type { FailedEvent, TrackingEvent } from '../../../services/common/records';
import { FakePublisher, KEY, build, post } from './fixture';

// The defects of issue 12 that the collector's HTTP side owns, each reproduced as it was
// reported: before the fixes these requests were accepted, changed or answered wrongly.

const track = (extra: Record<string, unknown>) => ({ userId: 'u', event: 'E', ...extra });
const deep = (levels: number) => {
  let text = '1';
  for (let i = 0; i < levels; i++) text = `{"d":${text}}`;
  return text;
};

describe('collector: hostile-testing defects', () => {
  let app: FastifyInstance;
  let publisher: FakePublisher;
  beforeEach(async () => {
    ({ app, publisher } = await build());
  });
  afterEach(() => app.close());

  const failed = () => publisher.on<FailedEvent>('failed');

  it('#1 rejects lone UTF-16 surrogates (BigQuery cannot store them) with the field path', async () => {
    const cases: [string, string][] = [
      ['{"userId":"p","event":"E","properties":{"s":"\\ud800x"}}', 'properties.s'],
      ['{"userId":"p","event":"E","properties":{"\\udc00":1}}', 'properties.\udc00'],
      ['{"userId":"\\ud800","event":"E"}', 'userId'],
      ['{"userId":"p","event":"E\\udfff"}', 'event'],
      ['{"userId":"p","event":"E","context":{"page":{"title":["ok","\\ud83d"]}}}', 'context.page.title.1'],
    ];
    for (const [body, path] of cases) {
      const res = await post(app, '/v1/track', body);
      expect([res.statusCode, res.json().error]).toEqual([400, 'invalid_events']);
      expect(res.json().rejected[0].reasons).toContainEqual(
        expect.objectContaining({ code: 'invalid_text', path }),
      );
    }
    // A well-formed pair (an emoji as escapes) is text and is accepted.
    const pair = await post(
      app,
      '/v1/track',
      '{"userId":"p","event":"E","properties":{"s":"\\ud83d\\ude00"}}',
    );
    expect(pair.statusCode).toBe(200);
    expect(JSON.parse(publisher.on<TrackingEvent>('raw')[0]!.properties)).toEqual({ s: '😀' });
    // The rejected input is kept, as JSON that escapes the surrogate (storable bytes).
    expect(failed()).toHaveLength(cases.length);
    expect(failed()[0]!.payload.toString()).toContain('\\ud800x');
  });

  it('#2 holds the batch context to the size and depth limits, once, before any event', async () => {
    const events = Array.from({ length: 500 }, (_, i) => ({ type: 'track', userId: `u${i}`, event: 'e' }));
    const huge = { batch: events, context: { blob: Array.from({ length: 100 }, () => 'x'.repeat(8000)) } };
    const started = Date.now();
    const big = await post(app, '/v1/batch', huge);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(big.statusCode).toBe(400);
    expect(big.json()).toMatchObject({ error: 'invalid_batch_context', path: 'context' });
    expect(big.json().message).toMatch(/bytes of JSON, the limit is 32768/);

    for (const levels of [50, 6_000]) {
      const res = await post(
        app,
        '/v1/batch',
        `{"batch":[{"type":"track","userId":"u","event":"e"}],"context":${deep(levels)}}`,
      );
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ error: 'invalid_batch_context' });
      expect(res.json().message).toMatch(/nested deeper than 8 levels/);
    }
    const wrongType = await post(app, '/v1/batch', { batch: events.slice(0, 1), context: 'web' });
    expect(wrongType.json()).toMatchObject({ error: 'invalid_batch_context', path: 'context' });
    // Nothing was accepted; each refusal is a failed event holding the body.
    expect(publisher.on('raw')).toEqual([]);
    expect(failed().map((f) => f.reasons[0]!.code)).toEqual(Array(4).fill('invalid_batch_context'));

    // A batch context within the limits still applies to every event under its own context.
    const ok = await post(app, '/v1/batch', {
      context: { app: { name: 'shop' }, locale: 'de' },
      batch: [{ type: 'track', userId: 'u', event: 'e', context: { locale: 'fr' } }],
    });
    expect(ok.statusCode).toBe(200);
    expect(JSON.parse(publisher.on<TrackingEvent>('raw')[0]!.context)).toMatchObject({
      app: { name: 'shop' },
      locale: 'fr',
    });
  });

  it('#5 never keeps a write key in failed events, whatever the body', async () => {
    // The reported case: the key in the body of a beacon whose batch is not a list.
    const beacon = await post(app, '/v1/batch', JSON.stringify({ writeKey: KEY, batch: 'x' }), {
      authorization: '',
      'content-type': 'text/plain',
    });
    expect([beacon.statusCode, beacon.json().error]).toEqual([400, 'invalid_body']);
    // Malformed JSON cannot lose its writeKey field: the key's text is cut out instead.
    await post(app, '/v1/batch', `{"writeKey":"${KEY}", "batch": [,]}`);
    // And a gzip body whose JSON is bad, with the key inside.
    await post(app, '/v1/batch', gzipSync(`{"batch":[{"writeKey":"${KEY}"},,]}`), {
      'content-encoding': 'gzip',
    });
    // Rejected events of a batch that carried the key.
    await post(app, '/v1/batch', {
      writeKey: KEY,
      batch: [{ type: 'track', event: 'no identity', writeKey: KEY }],
    });
    expect(failed()).toHaveLength(4);
    for (const f of failed()) expect(f.payload.toString()).not.toContain(KEY);
    expect(failed()[1]!.payload.toString()).toContain('[redacted]');
  });

  it('#6 enforces the request timeout on slow headers and on a trickled body', async () => {
    const { app: slowApp } = await build({ requestTimeoutMs: 1_000 });
    try {
      await slowApp.listen({ host: '127.0.0.1', port: 0 });
      const { port } = slowApp.server.address() as { port: number };
      const head =
        'POST /v1/track HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
        `X-Write-Key: ${KEY}\r\nContent-Length: 40\r\n\r\n`;
      const slowHeaders = await trickle(port, head.split(''), 100);
      expect(slowHeaders.text).toMatch(/^HTTP\/1.1 408/);
      expect(slowHeaders.ms).toBeLessThan(2_500);
      const slowBody = await trickle(port, [head, ...'{"userId":"u","event":"e"}'.split('')], 200);
      expect(slowBody.text).toMatch(/^HTTP\/1.1 408/);
      expect(slowBody.ms).toBeLessThan(2_500);
    } finally {
      await slowApp.close();
    }
  });

  it('#8 refuses what would otherwise change silently, and keeps readable rejects', async () => {
    const huge = await post(
      app,
      '/v1/track',
      '{"userId":"u","event":"E","properties":{"n":1e400,"m":-1e999}}',
    );
    expect(huge.json().rejected[0].reasons).toEqual([
      expect.objectContaining({ code: 'invalid_number', path: 'properties.n' }),
      expect.objectContaining({ code: 'invalid_number', path: 'properties.m' }),
    ]);
    for (const timestamp of [
      '2026-02-31',
      '2026-02-29T10:00:00Z',
      '2026-04-31T00:00:00.000Z',
      '2025-02-29',
    ]) {
      const res = await post(app, '/v1/track', track({ timestamp }));
      expect(res.json().rejected?.[0].reasons).toEqual([
        expect.objectContaining({ code: 'invalid_timestamp', path: 'timestamp' }),
      ]);
    }
    expect((await post(app, '/v1/track', track({ timestamp: '2024-02-29T10:00:00.000Z' }))).statusCode).toBe(
      200,
    );

    const dup = await post(
      app,
      '/v1/track',
      '{"userId":"u","event":"E","properties":{"plan":"a","plan":"b"}}',
    );
    expect(dup.json()).toMatchObject({ error: 'invalid_json', position: 51 });
    expect(dup.json().message).toBe('duplicate key "plan" in one object');
    // The same key in different objects is fine, and so is an escaped key that differs.
    const fine = await post(
      app,
      '/v1/track',
      '{"userId":"u","event":"E","properties":{"a":{"x":1},"b":{"x":2},"\\u0078":3}}',
    );
    expect(fine.statusCode).toBe(200);
    const escapedDup = await post(
      app,
      '/v1/track',
      '{"userId":"u","event":"E","properties":{"x":1,"\\u0078":2}}',
    );
    expect(escapedDup.json().error).toBe('invalid_json');

    const empty = await post(app, '/v1/batch', { batch: [] });
    expect([empty.statusCode, empty.json().error]).toEqual([400, 'empty_batch']);

    const gz = await post(app, '/v1/batch', gzipSync('{"batch": [{"type":"track",,]}'), {
      'content-encoding': 'gzip',
    });
    expect(gz.json().error).toBe('invalid_json');

    const ones = `{"batch":[${Array(500).fill('1').join(',')}]}`;
    const amplified = await post(app, '/v1/batch', ones);
    expect([amplified.statusCode, amplified.json().error, amplified.json().path]).toEqual([
      400,
      'invalid_body',
      'batch.0',
    ]);
    expect(amplified.body.length).toBeLessThan(1_000);

    const codes = failed().map((f) => f.reasons[0]!.code);
    expect(codes).toEqual([
      'invalid_number',
      ...Array(4).fill('invalid_timestamp'),
      'invalid_json',
      'invalid_json',
      'empty_batch',
      'invalid_json',
      'invalid_body',
    ]);
    // The gzip body is kept decompressed, so the failed event shows the JSON that was wrong.
    expect(failed()[8]!.payload.toString()).toBe('{"batch": [{"type":"track",,]}');
    expect(failed()[7]!.payload.toString()).toBe('{"batch":[]}');
    expect(failed()[9]!.payload.toString()).toBe(ones); // one record, not 500
  });

  it('#8 bounds the answer of a batch whose events are all rejected', async () => {
    const batch = Array.from({ length: 500 }, () => ({}));
    const res = await post(app, '/v1/batch', { batch });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'invalid_events', accepted: 0, rejectedCount: 500 });
    expect(res.json().rejected).toHaveLength(100);
    expect(failed()).toHaveLength(500); // every one is still kept with its reasons
  });

  it('#9 describes null and empty strings as what they are', async () => {
    const nullBody = await post(app, '/v1/track', 'null');
    expect(nullBody.json().message).toBe('the body must be a JSON object, got null');
    const emptyName = await post(app, '/v1/track', track({ event: '' }));
    expect(emptyName.json().rejected[0].reasons).toEqual([
      { code: 'invalid_type', path: 'event', message: 'expected a non-empty string, got an empty string' },
    ]);
  });
});

/** Writes `chunks` one per `intervalMs` on a raw socket; resolves when the server closes it. */
function trickle(port: number, chunks: string[], intervalMs: number): Promise<{ ms: number; text: string }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let i = 0;
    const timer = setInterval(() => {
      if (i < chunks.length && !socket.destroyed) socket.write(chunks[i++]!);
    }, intervalMs);
    // Bounded even if the server never closes: the assertion on `ms` then fails.
    const giveUp = setTimeout(() => socket.destroy(), 10_000);
    socket.on('data', (d) => (text += d.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      clearTimeout(giveUp);
      resolve({ ms: Date.now() - started, text });
    });
  });
}
