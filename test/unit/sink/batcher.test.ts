import { Batcher, chunk } from '../../../services/sink/batcher';

describe('batching policy', () => {
  const policy = { maxRows: 3, maxBytes: 100, maxDelayMs: 1000 };

  it('is never due when empty', () => {
    const b = new Batcher<string>(policy);
    expect(b.due(1e9)).toBeNull();
    expect(b.msUntilDue(0)).toBeNull();
  });

  it('flushes by rows, bytes and time, whichever comes first', () => {
    const rows = new Batcher<string>(policy);
    rows.add('a', 1, 0);
    rows.add('b', 1, 10);
    expect(rows.due(20)).toBeNull();
    rows.add('c', 1, 20);
    expect(rows.due(20)).toBe('rows');
    expect(rows.full()).toBe(true);

    const bytes = new Batcher<string>(policy);
    bytes.add('a', 60, 0);
    expect(bytes.due(0)).toBeNull();
    bytes.add('b', 40, 0);
    expect(bytes.due(0)).toBe('bytes');

    const time = new Batcher<string>(policy);
    time.add('a', 1, 500);
    expect(time.msUntilDue(700)).toBe(800);
    expect(time.due(1499)).toBeNull();
    expect(time.due(1500)).toBe('time');
  });

  it('take() empties the buffer and restarts the clock from the next item', () => {
    const b = new Batcher<string>(policy);
    b.add('a', 5, 0);
    b.add('b', 5, 0);
    expect(b.take()).toEqual(['a', 'b']);
    expect([b.rows, b.bytes, b.due(5000)]).toEqual([0, 0, null]);
    b.add('c', 5, 4000);
    expect(b.due(4999)).toBeNull();
    expect(b.due(5000)).toBe('time');
  });

  it('refuses a nonsensical policy', () => {
    expect(() => new Batcher({ maxRows: 0, maxBytes: 1, maxDelayMs: 0 })).toThrow();
  });

  it('chunks by rows and bytes, an oversized item alone', () => {
    const size = (n: number) => n;
    expect(chunk([1, 1, 1, 1, 1], size, 2, 100)).toEqual([[1, 1], [1, 1], [1]]);
    expect(chunk([40, 40, 40], size, 10, 100)).toEqual([[40, 40], [40]]);
    expect(chunk([500, 1, 1], size, 10, 100)).toEqual([[500], [1, 1]]);
    expect(chunk([], size, 10, 100)).toEqual([]);
  });
});
