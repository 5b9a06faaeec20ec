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
  it('trusts X-Forwarded-For from loopback (the web server) unless told otherwise', () => {
    expect(parseApiConfig(key).trustProxy).toBe('loopback');
    expect(parseApiConfig({ ...key, API_TRUST_PROXY: 'false' }).trustProxy).toBe(false);
    expect(parseApiConfig({ ...key, API_TRUST_PROXY: '10.0.0.0/8' }).trustProxy).toBe('10.0.0.0/8');
  });
  it('refuses nonsense', () => {
    expect(() => parseApiConfig({ ...key, COOKIE_SECURE: 'maybe' })).toThrow(/COOKIE_SECURE/);
    expect(() => parseApiConfig({ ...key, API_PORT: '70000' })).toThrow(/API_PORT/);
  });
});
