import { EventQueue } from '../src';

interface Call {
  url: string;
  body: { batch: Array<{ messageId: string; event?: string }> };
  auth: string | null;
}

function fakeCollector(statuses: number[]) {
  const calls: Call[] = [];
  const fetchImpl = (async (url: string, init: RequestInit) => {
    calls.push({
      url,
      body: JSON.parse(init.body as string),
      auth: new Headers(init.headers).get('authorization'),
    });
    const status = statuses.shift() ?? 200;
    return new Response('{}', { status });
  }) as unknown as typeof fetch;
  return { calls, fetchImpl };
}

const opts = { collectorUrl: 'http://collector', writeKey: 'wk', retryMinMs: 1, retryMaxMs: 5 };

describe('EventQueue', () => {
  it('batches to /v1/batch with the write key as Basic user and a messageId per event', async () => {
    const { calls, fetchImpl } = fakeCollector([]);
    const q = new EventQueue({ ...opts, fetch: fetchImpl, maxBatch: 2 });
    for (let i = 0; i < 5; i++) q.enqueue({ event: `E${i}`, userId: 'u' });
    await q.flush();
    q.close();
    expect(calls.map((c) => c.body.batch.length)).toEqual([2, 2, 1]);
    expect(calls[0]!.url).toBe('http://collector/v1/batch');
    expect(calls[0]!.auth).toBe(`Basic ${btoa('wk:')}`);
    const ids = calls.flatMap((c) => c.body.batch.map((e) => e.messageId));
    expect(new Set(ids).size).toBe(5);
    expect(q.delivered).toBe(5);
  });

  it('retries network errors, 429 and 5xx with the same messageIds, and drops 400s', async () => {
    const { calls, fetchImpl } = fakeCollector([503, 429, 200, 400]);
    const q = new EventQueue({ ...opts, fetch: fetchImpl });
    q.enqueue({ event: 'A', userId: 'u' });
    await q.flush();
    expect(calls).toHaveLength(3);
    expect(new Set(calls.map((c) => c.body.batch[0]!.messageId)).size).toBe(1);
    q.enqueue({ event: 'bad', userId: 'u' });
    await q.flush();
    expect(calls).toHaveLength(4);
    expect(q.size).toBe(0);
    expect(q.rejected).toBe(1);
    q.close();
  });

  it('keeps at most maxQueue events, dropping the oldest and counting them', async () => {
    const { calls, fetchImpl } = fakeCollector([]);
    const q = new EventQueue({ ...opts, fetch: fetchImpl, maxQueue: 3, flushIntervalMs: 60_000 });
    for (let i = 0; i < 5; i++) q.enqueue({ event: `E${i}`, userId: 'u' });
    expect(q.size).toBe(3);
    expect(q.dropped).toBe(2);
    await q.flush();
    q.close();
    expect(calls[0]!.body.batch.map((e) => e.event)).toEqual(['E2', 'E3', 'E4']);
  });

  it('flushes by itself after the interval', async () => {
    const { calls, fetchImpl } = fakeCollector([]);
    const q = new EventQueue({ ...opts, fetch: fetchImpl, flushIntervalMs: 20 });
    q.enqueue({ event: 'A', userId: 'u' });
    await new Promise((r) => setTimeout(r, 200));
    expect(calls).toHaveLength(1);
    q.close();
  });

  it('gives up a flush at its deadline while the collector is down, keeping the events', async () => {
    const { fetchImpl } = fakeCollector(Array(100).fill(503));
    const q = new EventQueue({ ...opts, fetch: fetchImpl, flushIntervalMs: 60_000 });
    q.enqueue({ event: 'A', userId: 'u' });
    const started = Date.now();
    await q.flush(100);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(q.size).toBe(1);
    q.close();
  });
});
