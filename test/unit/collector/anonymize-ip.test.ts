import { anonymizeIp } from '../../../services/collector/anonymize-ip';

describe('anonymizeIp', () => {
  it.each([
    ['203.0.113.195', '203.0.113.0'],
    ['10.0.0.1', '10.0.0.0'],
    ['2001:db8:85a3:8d3:1319:8a2e:370:7348', '2001:db8:85a3::'],
    ['2001:db8:85a3::7348', '2001:db8:85a3::'],
    ['2001:db8::1', '2001:db8:0::'],
    ['::1', '0:0:0::'],
    ['fe80::1%eth0', 'fe80:0:0::'],
    ['::ffff:198.51.100.7', '198.51.100.0'],
    ['64:ff9b::192.0.2.33', '64:ff9b:0::'],
  ])('%s -> %s', (ip, expected) => {
    expect(anonymizeIp(ip)).toBe(expected);
  });

  it('refuses what is not an IP address', () => {
    for (const bad of ['', 'localhost', '300.1.1.1', '1.2.3', '2001:db8:::1', '1.2.3.4; DROP']) {
      expect(anonymizeIp(bad)).toBeNull();
    }
  });
});
