import { ConfigError, int, parseCoreConfig, str, type CoreConfig } from '@domaeka/core';

type Env = Record<string, string | undefined>;

export interface ApiConfig extends CoreConfig {
  /** API_PORT (8080); 0 picks a free port (tests). */
  port: number;
  /** API_HOST: loopback by default; set 0.0.0.0 behind a proxy or in a container. */
  host: string;
  /** COOKIE_SECURE: mark the session cookie Secure (serve over HTTPS). Off by default for local http. */
  cookieSecure: boolean;
  sessionTtlMs: number;
  /**
   * API_TRUST_PROXY: `loopback` by default: our own web server proxies
   * `/api` from this machine and names the browser in X-Forwarded-For, and
   * without trusting it every user would share one address for the login
   * and signup limits. Behind another reverse proxy set its addresses
   * (comma-separated) or `true`; `false` uses the socket's address only.
   */
  trustProxy: boolean | string;
  /**
   * BRIDGE_PUBLIC_HOST / BRIDGE_PUBLIC_PORT: the address phones use to reach
   * the bridge, as the web app shows it to shop owners. Unset: the page's own
   * host and the port the gateways report they listen on.
   */
  bridgePublicHost: string | null;
  bridgePublicPort: number | null;
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
    trustProxy: trustProxy(env.API_TRUST_PROXY),
    bridgePublicHost: (env.BRIDGE_PUBLIC_HOST ?? '').trim() || null,
    bridgePublicPort: env.BRIDGE_PUBLIC_PORT ? int(env, 'BRIDGE_PUBLIC_PORT', 1490, 1) : null,
  };
}

/** '': loopback; false: off; true: trust X-Forwarded-For; else addresses/CIDRs, comma-separated (fastify's `trustProxy`). */
function trustProxy(raw: string | undefined): boolean | string {
  const v = (raw ?? '').trim();
  if (v === '') return 'loopback';
  if (/^(0|false|no|off)$/i.test(v)) return false;
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  return v;
}
