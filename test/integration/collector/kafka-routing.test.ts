import { gzipSync } from 'node:zlib';
import type { FailedEvent, TrackingEvent } from '../../../services/common/records';
import { readAll, send, startCollector, type Harness } from './harness';

describe('collector into Kafka', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startCollector();
  });
  afterAll(() => h.close());

  it('writes accepted events keyed by unit, and rejected ones with their reasons to failed events', async () => {
    const run = Date.now().toString(36);
    const batch = [
      ...Array.from({ length: 30 }, (_, i) => ({
        type: 'track',
        messageId: `${run}-ok-${i}`,
        userId: `user-${i % 7}`,
        event: 'Clicked',
        properties: { i },
      })),
      { type: 'track', messageId: `${run}-bad-identity`, event: 'Clicked' },
      {
        type: 'track',
        messageId: `${run}-bad-time`,
        userId: 'u',
        event: 'Clicked',
        timestamp: '2999-01-01T00:00:00Z',
      },
    ];
    const res = await send(h, '/v1/batch', gzipSync(JSON.stringify({ batch })), {
      'content-encoding': 'gzip',
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ accepted: 30 });
    expect((res.json.rejected as { index: number }[]).map((r) => r.index)).toEqual([30, 31]);
    // A request answered with an unparseable body is kept too, whole.
    const broken = await send(h, '/v1/track', `{"marker": "${run}", oops`);
    expect(broken.status).toBe(400);

    const raw = await readAll<TrackingEvent>(h, h.topics.rawEvents);
    expect(raw.map((r) => r.value.messageId).sort()).toEqual(
      batch
        .slice(0, 30)
        .map((e) => e.messageId)
        .sort(),
    );
    for (const r of raw) expect(r.key).toBe(r.value.unitId);
    // One unit, one partition: per-user order is kept.
    const partitionsOf = new Map<string, Set<number>>();
    for (const r of raw) partitionsOf.set(r.key, (partitionsOf.get(r.key) ?? new Set()).add(r.partition));
    expect([...partitionsOf.values()].every((p) => p.size === 1)).toBe(true);
    const user3 = raw.filter((r) => r.key === 'user-3').map((r) => JSON.parse(r.value.properties).i);
    expect(user3).toEqual([...user3].sort((a, b) => a - b));

    const failed = await readAll<FailedEvent>(h, h.topics.failedEvents);
    const byMessage = new Map(failed.map((f) => [f.value.messageId, f.value]));
    expect(byMessage.get(`${run}-bad-identity`)!.reasons).toEqual([
      { code: 'missing_identity', path: 'userId', message: 'userId or anonymousId is required' },
    ]);
    expect(JSON.parse(byMessage.get(`${run}-bad-identity`)!.payload.toString())).toEqual(batch[30]);
    expect(byMessage.get(`${run}-bad-time`)!.reasons[0]!.code).toBe('timestamp_in_future');
    const whole = failed.find((f) => f.value.payload.toString().includes(run) && f.value.messageId === null);
    expect(whole!.value).toMatchObject({ stage: 'collector', sourceId: 'it-source' });
    expect(whole!.value.reasons[0]!.code).toBe('invalid_json');
  });

  it('reports ready with the broker up, and metrics of what it produced', async () => {
    const ready = await fetch(`${h.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: 'ready',
      checks: [
        { name: 'kafka-producer', ready: true },
        { name: 'kafka-broker', ready: true },
      ],
    });
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(metrics).toMatch(/collector_produce_duration_seconds_count [1-9]/);
    expect(metrics).toMatch(/collector_events_accepted_total\{type="track"\} 30/);
  });
});
