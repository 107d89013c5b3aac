import { z } from 'zod';
import { ConfigError, env, loadConfig } from '../../../services/common/config';

const schema = z.object({
  PORT: env.port(7071),
  BROKERS: env.list('127.0.0.1:9092'),
  STRICT: env.bool(false),
  API_TOKEN: z.string().min(20),
});

describe('loadConfig', () => {
  it('applies defaults and coerces types', () => {
    const config = loadConfig(schema, { API_TOKEN: 'x'.repeat(20), BROKERS: 'a:1, b:2' });
    expect(config).toEqual({ PORT: 7071, BROKERS: ['a:1', 'b:2'], STRICT: false, API_TOKEN: 'x'.repeat(20) });
  });

  it('lists every bad variable in one error and never echoes secrets', () => {
    let error: ConfigError | undefined;
    try {
      loadConfig(schema, { PORT: 'eighty', STRICT: 'yes', API_TOKEN: 'short-secret' });
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.problems.map((p) => p.split(':')[0])).toEqual(['PORT', 'STRICT', 'API_TOKEN']);
    expect(error!.message).toContain('got "eighty"');
    expect(error!.message).not.toContain('short-secret');
  });
});
