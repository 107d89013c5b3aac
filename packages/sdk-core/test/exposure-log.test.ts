import { ExposureLog } from '../src';

describe('ExposureLog', () => {
  it('reports an exposure once per unit, experiment and variant', () => {
    const log = new ExposureLog();
    expect(log.firstTime('u1', 'checkout', 'blue')).toBe(true);
    expect(log.firstTime('u1', 'checkout', 'blue')).toBe(false);
    expect(log.firstTime('u1', 'checkout', 'red')).toBe(true);
    expect(log.firstTime('u2', 'checkout', 'blue')).toBe(true);
  });

  it('stays within its capacity by forgetting the oldest entries', () => {
    const log = new ExposureLog(2);
    log.firstTime('u1', 'e', 'a');
    log.firstTime('u2', 'e', 'a');
    log.firstTime('u3', 'e', 'a');
    expect(log.firstTime('u3', 'e', 'a')).toBe(false);
    expect(log.firstTime('u1', 'e', 'a')).toBe(true);
  });
});
