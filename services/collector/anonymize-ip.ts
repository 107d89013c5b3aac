import { isIPv4, isIPv6 } from 'node:net';

/**
 * Truncates an IP address so it no longer identifies a device but still locates a network
 * (the Google Analytics convention): the last octet of an IPv4 address, the last 80 bits of
 * an IPv6 address. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are treated as IPv4.
 * Returns null when `ip` is not an IP address.
 */
export function anonymizeIp(ip: string): string | null {
  if (isIPv4(ip)) return ip.slice(0, ip.lastIndexOf('.')) + '.0';
  if (!isIPv6(ip)) return null;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return anonymizeIp(mapped[1]!);
  const groups = expandIPv6(ip.split('%')[0]!);
  // Keep the first 48 bits (3 groups): the routing prefix of a typical allocation.
  return `${groups
    .slice(0, 3)
    .map((g) => g.toString(16))
    .join(':')}::`;
}

/** The 8 16-bit groups of a valid IPv6 address (with `::` and a dotted IPv4 tail expanded). */
function expandIPv6(ip: string): number[] {
  const [head = '', tail] = ip.split('::') as [string, string | undefined];
  const parse = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').flatMap((g) => {
          if (!g.includes('.')) return [parseInt(g, 16)];
          const [a, b, c, d] = g.split('.').map(Number) as [number, number, number, number];
          return [(a << 8) | b, (c << 8) | d];
        });
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}
