import { decodeMetadata, encodeMetadata } from '../../../services/sink/commit-metadata';

describe('commit metadata (what the Kafka commit carries besides the offset)', () => {
  it('round-trips the cursors of every table, compactly', () => {
    const m = {
      events: { stream: 'projects/p/datasets/d/tables/events/streams/abc', next: 120, skip: 3 },
      failed_events: { stream: null, next: 0, skip: 0, checkIdsUpTo: 77 },
    };
    const text = encodeMetadata(m);
    expect(decodeMetadata(text)).toEqual(m);
    // Kafka keeps up to 4096 bytes of metadata per partition by default.
    expect(text.length).toBeLessThan(200);
  });

  it('reads anything else (nothing, another tool, a newer version, garbage) as no cursors', () => {
    expect(decodeMetadata(null)).toEqual({});
    expect(decodeMetadata('')).toEqual({});
    expect(decodeMetadata('not json')).toEqual({});
    expect(decodeMetadata(JSON.stringify({ v: 2, t: {} }))).toEqual({});
    expect(decodeMetadata(JSON.stringify({ v: 1, t: { events: ['s', 'x', 0] } }))).toEqual({});
    expect(decodeMetadata(JSON.stringify({ v: 1, t: { events: ['s', 1.5, 0] } }))).toEqual({});
  });
});
