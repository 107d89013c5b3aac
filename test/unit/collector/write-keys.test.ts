import {
  WriteKeys,
  originAllowed,
  parseWriteKeys,
  writeKeyFromHeaders,
} from '../../../services/collector/write-keys';

const basic = (user: string, password = '') =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('parseWriteKeys', () => {
  it('reads the JSON list with origins defaulting to none', () => {
    expect(
      parseWriteKeys(
        '[{"key":"secret-key-1","sourceId":"web","origins":["https://a.example"]},{"key":"secret-key-2","sourceId":"api"}]',
      ),
    ).toEqual([
      { key: 'secret-key-1', sourceId: 'web', origins: ['https://a.example'] },
      { key: 'secret-key-2', sourceId: 'api', origins: [] },
    ]);
  });

  it('refuses bad input without echoing the secrets', () => {
    expect(() => parseWriteKeys('[{"key":"super-secret-value",')).toThrow(/^not valid JSON$/);
    expect(() => parseWriteKeys('[]')).toThrow(/at least one/);
    expect(() => parseWriteKeys('[{"key":"short","sourceId":"x"}]')).toThrow(/8 characters/);
    expect(() =>
      parseWriteKeys('[{"key":"secret-key-1","sourceId":"x","origins":["a.example/path"]}]'),
    ).toThrow(/origin/);
    const twice = '[{"key":"secret-key-1","sourceId":"a"},{"key":"secret-key-1","sourceId":"b"}]';
    expect(() => parseWriteKeys(twice)).toThrow(/twice/);
    try {
      parseWriteKeys(twice);
    } catch (err) {
      expect((err as Error).message).not.toContain('secret-key-1');
    }
  });
});

describe('WriteKeys', () => {
  const keys = new WriteKeys([
    { key: 'secret-key-1', sourceId: 'web', origins: ['https://a.example'] },
    { key: 'secret-key-2', sourceId: 'api', origins: [] },
  ]);

  it('resolves known keys to their source and unknown ones to null', () => {
    expect(keys.resolve('secret-key-1')?.sourceId).toBe('web');
    expect(keys.resolve('secret-key-2')?.sourceId).toBe('api');
    expect(keys.resolve('secret-key-3')).toBeNull();
    expect(keys.resolve('')).toBeNull();
    expect(keys.resolve('secret-key-1 ')).toBeNull();
  });

  it('collects every allowed origin for preflights', () => {
    expect([...keys.anyOrigins]).toEqual(['https://a.example']);
  });

  it('allows server-side requests, listed origins and * only', () => {
    const web = keys.resolve('secret-key-1')!.origins;
    const api = keys.resolve('secret-key-2')!.origins;
    expect(originAllowed(web, undefined)).toBe(true);
    expect(originAllowed(web, 'https://a.example')).toBe(true);
    expect(originAllowed(web, 'https://evil.example')).toBe(false);
    expect(originAllowed(api, 'https://a.example')).toBe(false);
    expect(originAllowed(new Set(['*']), 'https://any.example')).toBe(true);
  });
});

describe('writeKeyFromHeaders', () => {
  it('takes the HTTP Basic username as Segment clients send it', () => {
    expect(writeKeyFromHeaders({ authorization: basic('wk-123') })).toBe('wk-123');
    expect(writeKeyFromHeaders({ authorization: basic('wk-123', 'ignored') })).toBe('wk-123');
    expect(writeKeyFromHeaders({ authorization: `basic ${Buffer.from('wk-123').toString('base64')}` })).toBe(
      'wk-123',
    );
  });

  it('falls back to X-Write-Key and ignores other schemes', () => {
    expect(writeKeyFromHeaders({ 'x-write-key': 'wk-9' })).toBe('wk-9');
    expect(writeKeyFromHeaders({ authorization: 'Bearer abc', 'x-write-key': 'wk-9' })).toBe('wk-9');
    expect(writeKeyFromHeaders({ authorization: basic('') })).toBeUndefined();
    expect(writeKeyFromHeaders({})).toBeUndefined();
  });
});
