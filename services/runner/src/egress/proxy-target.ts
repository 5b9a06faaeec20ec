/**
 * Reading what a client asks the proxy for: the CONNECT authority, the
 * absolute-form URL of a plain HTTP request, and which headers may travel
 * on. Host canonicalisation and every address rule stay in the core's
 * EgressPolicy; this only splits the request target.
 */

export interface ConnectTarget {
  host: string;
  port: number;
}

/**
 * `host:port` or `[v6]:port` (RFC 9110 authority-form; the port is
 * mandatory). Characters that would leak into other URL parts are refused
 * here so a target never means two things.
 */
export function parseConnectTarget(target: string): ConnectTarget | null {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:/?#@[\]\\\s]+):(\d{1,5})$/.exec(target);
  if (!m) return null;
  return { host: m[1]!, port: Number(m[2]) };
}

export type AbsoluteTarget = { ok: true; url: URL } | { ok: false; reason: string };

/**
 * The absolute-form target `http://host[:port]/path?query` that clients send
 * to an HTTP proxy for http:// URLs. https:// goes through CONNECT (the
 * proxy never sees inside TLS); origin-form (`GET /path`) means the client
 * took us for the server.
 */
export function parseAbsoluteTarget(target: string): AbsoluteTarget {
  if (target.startsWith('/') || target === '*') {
    return { ok: false, reason: 'the proxy needs an absolute http:// URL (origin-form request)' };
  }
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return { ok: false, reason: 'the request target is not a valid URL' };
  }
  if (url.protocol === 'https:') return { ok: false, reason: 'https:// URLs go through CONNECT' };
  if (url.protocol !== 'http:') return { ok: false, reason: `scheme "${url.protocol.slice(0, -1)}" is not proxied (http only)` };
  return { ok: true, url };
}

/**
 * Hop-by-hop headers (RFC 9110 section 7.6.1) and the proxy's own: they
 * describe the client's connection to us, not the request. Framing
 * (Transfer-Encoding) is redone by Node for the next hop.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'proxy-authentication-info',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Headers the proxy sets itself on the upstream request. */
const REQUEST_ONLY = new Set(['host', 'expect']);

export type HeaderMap = Record<string, string | string[]>;

/** Names listed in Connection are hop-by-hop too (`Connection: close, X-Secret`). */
function connectionListed(rawHeaders: readonly string[]): Set<string> {
  const listed = new Set<string>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    if (name !== 'connection' && name !== 'proxy-connection') continue;
    for (const token of rawHeaders[i + 1]!.split(',')) {
      const t = token.trim().toLowerCase();
      if (t) listed.add(t);
    }
  }
  return listed;
}

/** End-to-end headers of a message (Node's rawHeaders: name, value, name, value...), repeated names kept. */
export function endToEndHeaders(rawHeaders: readonly string[], request: boolean): HeaderMap {
  const listed = connectionListed(rawHeaders);
  const out: HeaderMap = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    if (HOP_BY_HOP.has(name) || listed.has(name) || (request && REQUEST_ONLY.has(name))) continue;
    const value = rawHeaders[i + 1]!;
    const prev = out[name];
    out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}
