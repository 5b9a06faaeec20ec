import type { TLSSocket } from 'node:tls';
import proxyAddr from '@fastify/proxy-addr';
import type { FastifyRequest } from 'fastify';
import type { ApiConfig } from '../config.js';
import { sameText } from './keys.js';

/** The header web/server.js sends WEB_PROXY_SECRET in (it drops any a browser sent). */
export const PROXY_SECRET_HEADER = 'x-kb-proxy-secret';

/** Who is asking, as far as this API may believe forwarding headers. */
export interface ClientInfo {
  /** The client's address: for the login and signup limits. */
  ip: string;
  /** The request came over https (TLS here, or a trusted proxy's X-Forwarded-Proto): cookies get `Secure`. */
  https: boolean;
}

export type ClientResolver = (req: FastifyRequest) => ClientInfo;

/**
 * One rule for whose X-Forwarded-For / X-Forwarded-Proto count, walked like
 * fastify's own `trustProxy` (proxy-addr: from the socket back through the
 * header while each hop is trusted): a hop is trusted when TRUST_PROXY
 * names it, and the socket's peer also when it presents WEB_PROXY_SECRET
 * (our web server, which appends the browser's address and sets the
 * protocol). A browser's own X-Forwarded-For before that counts only when
 * TRUST_PROXY names the address it came from.
 */
export function clientResolver(config: Pick<ApiConfig, 'trustProxy' | 'webProxySecret'>): ClientResolver {
  const named = trustFn(config.trustProxy);
  const secret = config.webProxySecret;
  return (req) => {
    const header = req.headers[PROXY_SECRET_HEADER];
    const vouched = secret !== null && typeof header === 'string' && sameText(header, secret);
    const trust = (addr: string, hop: number) => (hop === 0 && vouched) || named(addr, hop);
    const chain = proxyAddr.all(req.raw, trust);
    const peer = req.raw.socket?.remoteAddress ?? '';
    let https = Boolean((req.raw.socket as TLSSocket | undefined)?.encrypted);
    if (!https && trust(peer, 0)) https = lastEntry(req.headers['x-forwarded-proto']) === 'https';
    return { ip: chain[chain.length - 1] ?? peer, https };
  };
}

function trustFn(setting: boolean | string): (addr: string, hop: number) => boolean {
  if (setting === true) return () => true;
  if (setting === false) return () => false;
  return proxyAddr.compile(setting.split(',').map((a) => a.trim()));
}

/** The nearest proxy's value: the last of a comma-separated (or repeated) header. */
function lastEntry(value: string | string[] | undefined): string {
  const joined = Array.isArray(value) ? value.join(',') : (value ?? '');
  return joined.slice(joined.lastIndexOf(',') + 1).trim().toLowerCase();
}
