import { SseParser } from '../src';

describe('SseParser', () => {
  it('parses events split at any byte, with comments, multi-line data, ids and retry', () => {
    const text =
      ': keep-alive\n\nretry: 2000\nid: "e1"\nevent: payload\ndata: {"a":\ndata: 1}\n\nevent: change\r\ndata: x\r\n\r\ndata: plain\n\n';
    for (let cut = 0; cut <= text.length; cut++) {
      const p = new SseParser();
      const got = [...p.push(text.slice(0, cut)), ...p.push(text.slice(cut))];
      expect(got).toEqual([
        { event: 'payload', data: '{"a":\n1}', id: '"e1"' },
        { event: 'change', data: 'x', id: '"e1"' },
        { event: 'message', data: 'plain', id: '"e1"' },
      ]);
      expect(p.retryMs).toBe(2000);
    }
  });

  it('ignores an event without data and waits for the blank line', () => {
    const p = new SseParser();
    expect(p.push('event: x\n\n')).toEqual([]);
    expect(p.push('data: 1\n')).toEqual([]);
    expect(p.push('\n')).toEqual([{ event: 'message', data: '1', id: undefined }]);
  });
});
