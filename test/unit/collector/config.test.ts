import { ConfigError } from '../../../services/common/config';
import { appSettings, collectorTopicSpecs, loadCollectorConfig } from '../../../services/collector/config';

const KEYS = '[{"key":"local-dev-key","sourceId":"local-dev","origins":["*"]}]';

describe('collector configuration', () => {
  it('has working defaults around the required write keys', () => {
    const config = loadCollectorConfig({ COLLECTOR_WRITE_KEYS: KEYS });
    expect(config.COLLECTOR_PORT).toBe(7071);
    expect(config.COLLECTOR_WRITE_KEYS).toEqual([
      { key: 'local-dev-key', sourceId: 'local-dev', origins: ['*'] },
    ]);
    expect(appSettings(config)).toMatchObject({
      maxBodyBytes: 1048576,
      maxBatchEvents: 500,
      anonymizeIp: true,
    });
    const { names, specs } = collectorTopicSpecs(config);
    expect(names).toEqual({
      rawEvents: 'xp.events.raw.v1',
      exposures: 'xp.exposures.v1',
      failedEvents: 'xp.events.failed.v1',
    });
    expect(specs.map((s) => [s.schema, s.partitions])).toEqual([
      ['tracking-event', 6],
      ['exposure', 6],
      ['failed-event', 1],
    ]);
  });

  it('renames topics (benchmarks and tests) without changing their declaration', () => {
    const config = loadCollectorConfig({ COLLECTOR_WRITE_KEYS: KEYS, COLLECTOR_RAW_TOPIC: 'bench.raw' });
    expect(collectorTopicSpecs(config).specs[0]).toMatchObject({
      name: 'bench.raw',
      schema: 'tracking-event',
    });
  });

  it('reports every bad variable without echoing write keys', () => {
    let error: ConfigError | undefined;
    try {
      loadCollectorConfig({
        COLLECTOR_WRITE_KEYS: '[{"key":"leaky-secret-123","sourceId":""}]',
        COLLECTOR_PORT: 'x',
        COLLECTOR_MAX_BATCH_EVENTS: '500',
        COLLECTOR_MAX_IN_FLIGHT_RECORDS: '600',
      });
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.problems.map((p) => p.split(':')[0])).toEqual(['COLLECTOR_PORT', 'COLLECTOR_WRITE_KEYS']);
    expect(error!.message).not.toContain('leaky-secret-123');
    expect(() => loadCollectorConfig({})).toThrow(/COLLECTOR_WRITE_KEYS/);
    expect(() =>
      loadCollectorConfig({ COLLECTOR_WRITE_KEYS: KEYS, COLLECTOR_MAX_IN_FLIGHT_RECORDS: '600' }),
    ).toThrow(/at least twice COLLECTOR_MAX_BATCH_EVENTS/);
  });
});
