import { isIPv6 } from 'node:net';
import { formatIp, parseIp } from './ip-ranges.js';

/**
 * Canonical form of a host as the WHATWG URL parser sees it: lower case,
 * IDNA applied, numeric tricks (`2130706433`, `0x7f.1`, `0177.0.0.1`,
 * `127.1`) turned into dotted quads, IPv6 without brackets and the trailing
 * dot of a fully qualified name dropped. The same parser that reads tenant
 * URLs reads CONNECT targets and allow entries, so one host cannot have two
 * spellings that the rules judge differently. Null when it is not a bare host.
 */
export function normaliseHost(raw: string): string | null {
  const inner = raw.startsWith('[') && raw.endsWith(']') ? raw.slice(1, -1) : raw;
  // A colon is only part of a host inside an IPv6 address (`a:80` carries a port; `:80` is the default and vanishes).
  if (raw.includes(':') && !isIPv6(inner)) return null;
  const bracketed = inner.includes(':') ? `[${inner}]` : raw;
  let url: URL;
  try {
    url = new URL(`http://${bracketed}/`);
  } catch {
    return null;
  }
  // Anything beyond a host (`a@b`, `a:1`, `a/b`, `a?b`, `a#b`, `a\b`) leaks into other URL parts.
  if (url.username || url.password || url.port || url.pathname !== '/' || url.search || url.hash) return null;
  return hostOf(url);
}

/** The host of a parsed URL in canonical form (see normaliseHost). */
export function hostOf(url: URL): string {
  let host = url.hostname;
  if (host.startsWith('[')) host = host.slice(1, -1);
  if (host.endsWith('.')) host = host.slice(0, -1);
  const ip = parseIp(host);
  return ip ? formatIp(ip) : host;
}
