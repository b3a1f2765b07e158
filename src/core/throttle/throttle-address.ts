import { isIPv6 } from 'node:net';

/**
 * The unit an address is throttled as: an IPv4 address as it is, an IPv6 address by its /64
 * network (one subscriber usually holds a whole /64, so per-address counting would be free to evade).
 * IPv4-mapped IPv6 addresses (::ffff:192.0.2.1) count as their IPv4 address.
 */
export function throttleAddress(ip: string): string {
  if (!isIPv6(ip)) return ip;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  const [head = '', tail] = ip.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  // An embedded IPv4 tail (::1.2.3.4) takes two groups; only the first four groups matter here.
  const rightGroups = right.flatMap((part) => (part.includes('.') ? ['0', '0'] : [part]));
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - rightGroups.length).fill('0'), ...rightGroups];
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
