import { describe, expect, it } from 'vitest';
import { throttleAddress } from './throttle-address.js';

describe('throttleAddress', () => {
  it.each([
    ['192.0.2.1', '192.0.2.1'],
    ['::ffff:192.0.2.1', '192.0.2.1'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002::1', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['2001:DB8::', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1:2:3:4', 'fe80:0:0:0::/64'],
    ['2001:db8:1:2:3::', '2001:db8:1:2::/64'],
    ['64:ff9b::192.0.2.1', '64:ff9b:0:0::/64'],
  ])('counts %s as %s', (ip, unit) => {
    expect(throttleAddress(ip)).toBe(unit);
  });

  it('puts every address of one /64 in one unit, and another /64 in another', () => {
    expect(throttleAddress('2001:db8:aa:1::1')).toBe(throttleAddress('2001:db8:aa:1:dead:beef:0:9'));
    expect(throttleAddress('2001:db8:aa:1::1')).not.toBe(throttleAddress('2001:db8:aa:2::1'));
  });
});
