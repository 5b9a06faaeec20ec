import proxyAddr from '@fastify/proxy-addr';
import { ConfigError, int, parseCoreConfig, str, type CoreConfig } from '@domaeka/core';

type Env = Record<string, string | undefined>;

export interface ApiConfig extends CoreConfig {
  /** API_PORT (8080); 0 picks a free port (tests). */
  port: number;
  /** API_HOST: loopback by default; set 0.0.0.0 behind a proxy or in a container. */
  host: string;
  /** COOKIE_SECURE: always mark the cookies Secure (else only requests that came over https, see TRUST_PROXY). */
  cookieSecure: boolean;
  sessionTtlMs: number;
  /**
   * TRUST_PROXY (off by default): whose forwarding headers count, as
   * fastify's `trustProxy`: `false` (only the socket's address and TLS),
   * or the proxies' addresses/CIDRs (comma-separated, `loopback` allowed),
   * or `true` (every hop: only when nothing can reach the API but the
   * proxy). It names the client for the login/signup limits (X-Forwarded-For)
   * and says whether the request came over https (X-Forwarded-Proto, for
   * Secure cookies). Off by default so that no local program can pick its
   * own address by sending the header (Express and Django trust nothing by
   * default either). Our own web server is vouched for by WEB_PROXY_SECRET.
   */
  trustProxy: boolean | string;
  /**
   * WEB_PROXY_SECRET: shared with web/server.js, which sends it in
   * `x-kb-proxy-secret` next to the X-Forwarded-* it sets: a request that
   * carries it comes from our web server, whose X-Forwarded-For entry
   * names the browser (the custom-origin-header pattern of CDNs in front
   * of an origin). Unset: the web server is one address like any other.
   * `npm start` makes one per launch.
   */
  webProxySecret: string | null;
  /**
   * BRIDGE_PUBLIC_HOST / BRIDGE_PUBLIC_PORT: the address phones use to reach
   * the bridge, as the web app shows it to shop owners. Unset: the page's own
   * host and the port the gateways report they listen on.
   */
  bridgePublicHost: string | null;
  bridgePublicPort: number | null;
  /** BRIDGE_PORT (1490): the gateways' port, for a pre-filled script made while no gateway reports one (BRIDGE_PUBLIC_PORT wins). */
  bridgePort: number;
  /** LIVE_RECHECK_MS (60 s): how often every live socket's session or key is checked again (expiry sends no event). */
  liveRecheckMs: number;
  /**
   * PUBLIC_URL: the origin the world reaches the web server at
   * (`https://bot.example.com`), for URLs shown to paste elsewhere: the
   * Kakao channel's skill URL. Unset: the address the browser used.
   */
  publicUrl: string | null;
  /**
   * How bot-server RabbitMQ users are made (bots/broker-admin.ts):
   * RABBITMQ_MANAGEMENT_URL (`http://admin:password@rabbitmq:15672`, the
   * management plugin's HTTP API) when set, else the RABBITMQCTL command
   * (`rabbitmqctl`) on this host.
   */
  brokerAdmin: { managementUrl: string | null; rabbitmqctl: string };
}

export const SESSION_TTL_MS = 14 * 24 * 60 * 60 * 1000;

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = (env[name] ?? '').trim().toLowerCase();
  if (raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${env[name]}"`);
}

export function parseApiConfig(env: Env = process.env): ApiConfig {
  return {
    ...parseCoreConfig(env),
    port: int(env, 'API_PORT', 8080),
    host: str(env, 'API_HOST', '127.0.0.1'),
    cookieSecure: bool(env, 'COOKIE_SECURE', false),
    sessionTtlMs: SESSION_TTL_MS,
    trustProxy: trustProxy(env),
    webProxySecret: webProxySecret(env),
    bridgePublicHost: (env.BRIDGE_PUBLIC_HOST ?? '').trim() || null,
    bridgePublicPort: env.BRIDGE_PUBLIC_PORT ? int(env, 'BRIDGE_PUBLIC_PORT', 1490, 1) : null,
    bridgePort: int(env, 'BRIDGE_PORT', 1490, 0),
    liveRecheckMs: int(env, 'LIVE_RECHECK_MS', 60_000, 500, 3_600_000),
    publicUrl: publicUrl(env),
    brokerAdmin: parseBrokerAdminConfig(env),
  };
}

/** PUBLIC_URL: unset, or an http(s) origin (a path would be doubled in the URLs made from it). */
function publicUrl(env: Env): string | null {
  const v = (env.PUBLIC_URL ?? '').trim().replace(/\/+$/, '');
  if (v === '') return null;
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new ConfigError(`PUBLIC_URL must be a URL such as https://bot.example.com, got "${v}"`);
  }
  if (!/^https?:$/.test(url.protocol) || url.pathname !== '/' || url.search || url.hash) {
    throw new ConfigError(`PUBLIC_URL must be an http(s) origin without a path, such as https://bot.example.com, got "${v}"`);
  }
  return url.origin;
}

/** TRUST_PROXY: off by default; true; or addresses/CIDRs, comma-separated (checked as fastify will read them). */
function trustProxy(env: Env): boolean | string {
  if (env.API_TRUST_PROXY !== undefined) throw new ConfigError('API_TRUST_PROXY is now TRUST_PROXY (off by default)');
  const v = (env.TRUST_PROXY ?? '').trim();
  if (v === '' || /^(0|false|no|off)$/i.test(v)) return false;
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  // fastify refuses hop counts (it cannot check the peer): say so rather than trust nothing silently.
  if (/^\d+$/.test(v)) throw new ConfigError(`TRUST_PROXY takes the proxies' addresses, not a hop count: "${v}"`);
  try {
    proxyAddr.compile(v.split(',').map((a) => a.trim()));
  } catch (err) {
    throw new ConfigError(`TRUST_PROXY: ${(err as Error).message}`);
  }
  return v;
}

/** WEB_PROXY_SECRET: unset, or at least 16 characters (a guessable one would let anyone name their own address). */
function webProxySecret(env: Env): string | null {
  const v = (env.WEB_PROXY_SECRET ?? '').trim();
  if (v === '') return null;
  if (v.length < 16) throw new ConfigError('WEB_PROXY_SECRET must be at least 16 characters');
  return v;
}

/** RABBITMQ_MANAGEMENT_URL and RABBITMQCTL (the API and `npm run cli -- bot-server-user`). */
export function parseBrokerAdminConfig(env: Env = process.env): ApiConfig['brokerAdmin'] {
  return { managementUrl: managementUrl(env), rabbitmqctl: str(env, 'RABBITMQCTL', 'rabbitmqctl') };
}

/** RABBITMQ_MANAGEMENT_URL: an http(s) URL with the administrator's credentials, or unset. */
function managementUrl(env: Env): string | null {
  const raw = (env.RABBITMQ_MANAGEMENT_URL ?? '').trim();
  if (!raw) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('RABBITMQ_MANAGEMENT_URL must be a URL like http://admin:password@rabbitmq:15672');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError('RABBITMQ_MANAGEMENT_URL must start with http:// or https://');
  if (!url.username) throw new ConfigError('RABBITMQ_MANAGEMENT_URL must carry the administrator user and password (http://user:password@host:15672)');
  return raw;
}
