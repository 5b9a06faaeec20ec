import { isIPv4, isIPv6 } from 'node:net';

/**
 * IP parsing, CIDR matching and the address classes egress refuses.
 * Own code rather than node:net BlockList because the IPv6 forms that carry
 * an IPv4 address (mapped, NAT64, 6to4) must be judged by the embedded
 * address, which BlockList cannot express.
 */

export interface Ip {
  family: 4 | 6;
  value: bigint;
}

export interface Cidr {
  family: 4 | 6;
  base: bigint;
  prefix: number;
}

const BITS = { 4: 32, 6: 128 } as const;
const V4_MASK = 0xffffffffn;

/** Parses a plain IPv4 dotted quad or IPv6 text (zone id dropped); null otherwise. */
export function parseIp(text: string): Ip | null {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (isIPv4(bare)) return { family: 4, value: parseV4(bare) };
  const noZone = bare.split('%')[0] ?? '';
  if (isIPv6(noZone)) return { family: 6, value: parseV6(noZone) };
  return null;
}

function parseV4(text: string): bigint {
  return text.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

function parseV6(text: string): bigint {
  // A trailing dotted quad (`::ffff:1.2.3.4`) stands for the last two groups.
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = parseV4(tail);
    text = `${text.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [left = '', right] = text.split('::');
  const leftGroups = left ? left.split(':') : [];
  const rightGroups = right ? right.split(':') : [];
  const fill = right === undefined ? 0 : 8 - leftGroups.length - rightGroups.length;
  const groups = [...leftGroups, ...Array<string>(fill).fill('0'), ...rightGroups];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

export function formatIp(ip: Ip): string {
  if (ip.family === 4) return formatV4(ip.value);
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((ip.value >> BigInt(i * 16)) & 0xffffn).toString(16));
  // RFC 5952: compress the longest run (>= 2) of zero groups.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

function formatV4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join('.');
}

/** Parses `a.b.c.d/n` or `v6/n`; null when malformed. */
export function parseCidr(text: string): Cidr | null {
  const [addr = '', bits, extra] = text.split('/');
  if (bits === undefined || extra !== undefined || !/^\d{1,3}$/.test(bits)) return null;
  const ip = parseIp(addr);
  const prefix = Number(bits);
  if (!ip || prefix > BITS[ip.family]) return null;
  const hostBits = BigInt(BITS[ip.family] - prefix);
  return { family: ip.family, base: (ip.value >> hostBits) << hostBits, prefix };
}

export function cidrContains(cidr: Cidr, ip: Ip): boolean {
  if (cidr.family !== ip.family) return false;
  const hostBits = BigInt(BITS[ip.family] - cidr.prefix);
  return ip.value >> hostBits === cidr.base >> hostBits;
}

/** IPv4-mapped IPv6 (`::ffff:a.b.c.d`) is the IPv4 host itself: sockets reach it over IPv4. */
export function unmapIp(ip: Ip): Ip {
  if (ip.family === 6 && ip.value >> 32n === 0xffffn) return { family: 4, value: ip.value & V4_MASK };
  return ip;
}

type Rule = [cidr: string, reason: string];

// Order matters: the first matching rule names the reason.
const V4_RULES: Rule[] = [
  ['0.0.0.0/8', 'a "this network" address'],
  ['10.0.0.0/8', 'a private address (RFC 1918)'],
  ['100.64.0.0/10', 'a carrier-grade NAT address'],
  ['127.0.0.0/8', 'a loopback address'],
  ['169.254.0.0/16', 'a link-local (cloud metadata) address'],
  ['172.16.0.0/12', 'a private address (RFC 1918)'],
  ['192.0.0.0/24', 'an IETF protocol address'],
  ['192.0.2.0/24', 'a documentation address'],
  ['192.88.99.0/24', 'a 6to4 relay address'],
  ['192.168.0.0/16', 'a private address (RFC 1918)'],
  ['198.18.0.0/15', 'a benchmarking address'],
  ['198.51.100.0/24', 'a documentation address'],
  ['203.0.113.0/24', 'a documentation address'],
  ['224.0.0.0/4', 'a multicast address'],
  ['255.255.255.255/32', 'the broadcast address'],
  ['240.0.0.0/4', 'a reserved address'],
];

/** IPv6 forms that carry an IPv4 address: judged by that address. */
const V6_EMBEDDING: Array<[cidr: string, name: string, extract: (v: bigint) => bigint]> = [
  ['::ffff:0:0/96', 'IPv4-mapped', (v) => v & V4_MASK],
  ['64:ff9b::/96', 'NAT64', (v) => v & V4_MASK],
  ['2002::/16', '6to4', (v) => (v >> 80n) & V4_MASK],
];

const V6_RULES: Rule[] = [
  ['::/128', 'the unspecified address'],
  ['::1/128', 'a loopback address'],
  // Deprecated; some stacks still route it to the embedded IPv4 host.
  ['::/96', 'an IPv4-compatible address'],
  ['64:ff9b:1::/48', 'a local NAT64 address'],
  ['100::/64', 'a discard-only address'],
  // Teredo hides the client's IPv4 address obfuscated; never a server we call.
  ['2001::/32', 'a Teredo address'],
  ['2001:db8::/32', 'a documentation address'],
  ['fc00::/7', 'a unique local address'],
  ['fe80::/10', 'a link-local address'],
  ['fec0::/10', 'a site-local address'],
  ['ff00::/8', 'a multicast address'],
];

const compile = (rules: Rule[]) => rules.map(([c, reason]) => ({ cidr: parseCidr(c)!, reason }));
const v4Rules = compile(V4_RULES);
const v6Rules = compile(V6_RULES);
const v6Embedding = V6_EMBEDDING.map(([c, name, extract]) => ({ cidr: parseCidr(c)!, name, extract }));
const globalUnicast = parseCidr('2000::/3')!;

/**
 * Why an address must not be reached, or null when it is public.
 */
export function refusalReason(ip: Ip): string | null {
  if (ip.family === 4) return v4Rules.find((r) => cidrContains(r.cidr, ip))?.reason ?? null;
  for (const e of v6Embedding) {
    if (!cidrContains(e.cidr, ip)) continue;
    const v4: Ip = { family: 4, value: e.extract(ip.value) };
    const inner = refusalReason(v4);
    return inner && `${/^[aeiouAEIOU]/.test(e.name) ? 'an' : 'a'} ${e.name} form of ${formatV4(v4.value)}, ${inner}`;
  }
  const rule = v6Rules.find((r) => cidrContains(r.cidr, ip));
  if (rule) return rule.reason;
  // Everything outside global unicast (2000::/3) is reserved or special.
  return cidrContains(globalUnicast, ip) ? null : 'a reserved IPv6 address';
}
