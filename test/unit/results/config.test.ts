import { ConfigError } from '../../../services/common/config';
import { analysisSettings, loadResultsConfig } from '../../../services/results/config';

describe('results service configuration', () => {
  const token = { RESULTS_REGISTRY_TOKEN: 'a-service-token-0123456789' };

  it('defaults to port 7074 on loopback, the registry as source, sequential and CUPED on', () => {
    const c = loadResultsConfig(token);
    expect([c.RESULTS_HOST, c.RESULTS_PORT, c.RESULTS_TOPIC]).toEqual(['127.0.0.1', 7074, 'xp.results.v1']);
    expect(analysisSettings(c)).toMatchObject({
      sequentialTuning: 5000,
      cuped: true,
      correction: null,
      alpha: 0.05,
    });
  });

  it('needs a registry token when listing experiments from the registry, and never prints it', () => {
    expect(() => loadResultsConfig({})).toThrow(ConfigError);
    expect(() => loadResultsConfig({ RESULTS_EXPERIMENTS_FROM: 'bigquery' })).not.toThrow();
    try {
      loadResultsConfig({ RESULTS_REGISTRY_TOKEN: 'short' });
      throw new Error('accepted');
    } catch (err) {
      expect((err as Error).message).toContain('RESULTS_REGISTRY_TOKEN');
      expect((err as Error).message).not.toContain('short"');
    }
  });

  it('reports every bad setting at once', () => {
    try {
      loadResultsConfig({
        ...token,
        RESULTS_PORT: 'x',
        RESULTS_ALPHA: '2',
        RESULTS_CUPED_LOOKBACK_HOURS: '-1',
      });
      throw new Error('accepted');
    } catch (err) {
      expect((err as ConfigError).problems.map((p) => p.split(':')[0])).toEqual([
        'RESULTS_PORT',
        'RESULTS_ALPHA',
        'RESULTS_CUPED_LOOKBACK_HOURS',
      ]);
    }
  });

  it('turns sequential testing and CUPED off with 0', () => {
    const c = loadResultsConfig({
      ...token,
      RESULTS_SEQUENTIAL_TUNING: '0',
      RESULTS_CUPED_LOOKBACK_HOURS: '0',
    });
    expect(analysisSettings(c)).toMatchObject({ sequentialTuning: undefined, cuped: false });
  });
});
