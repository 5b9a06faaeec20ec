import { describe, expect, it } from 'vitest';
import { parseApiConfig } from './config.js';

const key = { SECRETS_KEY: 'ab'.repeat(32) };

describe('parseApiConfig', () => {
  it('defaults to 127.0.0.1:8080, a non-Secure cookie and 14-day sessions', () => {
    const c = parseApiConfig(key);
    expect(c).toMatchObject({ port: 8080, host: '127.0.0.1', cookieSecure: false, sessionTtlMs: 14 * 24 * 3600 * 1000 });
    expect(c.brokerPrefix).toBe('kb');
  });
  it('reads API_PORT, API_HOST and COOKIE_SECURE', () => {
    const c = parseApiConfig({ ...key, API_PORT: '9000', API_HOST: '0.0.0.0', COOKIE_SECURE: 'true' });
    expect(c).toMatchObject({ port: 9000, host: '0.0.0.0', cookieSecure: true });
  });
  it('trusts no forwarding header unless TRUST_PROXY names the proxies', () => {
    expect(parseApiConfig(key).trustProxy).toBe(false);
    expect(parseApiConfig({ ...key, TRUST_PROXY: 'off' }).trustProxy).toBe(false);
    expect(parseApiConfig({ ...key, TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' }).trustProxy).toBe('10.0.0.0/8, 127.0.0.1');
    expect(parseApiConfig({ ...key, TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(() => parseApiConfig({ ...key, TRUST_PROXY: '2' })).toThrow(/hop count/);
    expect(() => parseApiConfig({ ...key, TRUST_PROXY: 'not-an-address' })).toThrow(/TRUST_PROXY/);
    // The old name is refused rather than ignored: it used to default to loopback.
    expect(() => parseApiConfig({ ...key, API_TRUST_PROXY: 'loopback' })).toThrow(/TRUST_PROXY/);
  });
  it('takes a WEB_PROXY_SECRET of 16 characters or more', () => {
    expect(parseApiConfig(key).webProxySecret).toBeNull();
    expect(parseApiConfig({ ...key, WEB_PROXY_SECRET: 's'.repeat(16) }).webProxySecret).toBe('s'.repeat(16));
    expect(() => parseApiConfig({ ...key, WEB_PROXY_SECRET: 'short' })).toThrow(/WEB_PROXY_SECRET/);
  });
  it('refuses nonsense', () => {
    expect(() => parseApiConfig({ ...key, COOKIE_SECURE: 'maybe' })).toThrow(/COOKIE_SECURE/);
    expect(() => parseApiConfig({ ...key, API_PORT: '70000' })).toThrow(/API_PORT/);
  });
});
