import { describe, expect, it } from 'vitest';
import { fillSecretHeaders } from './header-secrets.js';

const secrets = Object.freeze({ WEATHER_KEY: 'wk-123', TOKEN: 'abc', MULTI: 'line\nbreak', HANGUL: '비밀' });

describe('fillSecretHeaders', () => {
  it('replaces every {{secret:NAME}} in a header value, leaving the rest of the value and other headers as they are', () => {
    const headers = { 'X-Api-Key': '{{secret:WEATHER_KEY}}', Authorization: 'Bearer {{ secret:TOKEN }}', 'X-Both': '{{secret:TOKEN}}:{{secret:WEATHER_KEY}}', Accept: 'text/plain' };
    expect(fillSecretHeaders(headers, secrets)).toEqual({
      ok: true,
      headers: { 'X-Api-Key': 'wk-123', Authorization: 'Bearer abc', 'X-Both': 'abc:wk-123', Accept: 'text/plain' },
    });
    // The command's own (cached) headers are not modified.
    expect(headers['X-Api-Key']).toBe('{{secret:WEATHER_KEY}}');
  });

  it('hands back the same object when no header names a secret (the hot path copies nothing)', () => {
    const headers = { 'X-Static': 'value', 'X-Braces': '{not a placeholder}' };
    const r = fillSecretHeaders(headers, secrets);
    expect(r.ok && r.headers).toBe(headers);
  });

  it('fails with KB_ERR_SECRET_MISSING for a name the tenant has not set (or that no secret could have), naming header and secret', () => {
    expect(fillSecretHeaders({ 'X-Api-Key': '{{secret:NOPE}}' }, secrets)).toEqual({
      ok: false,
      code: 'KB_ERR_SECRET_MISSING',
      message: 'header "X-Api-Key" names secret "NOPE", which is not set',
    });
    expect(fillSecretHeaders({ 'X-Api-Key': '{{secret:weather_key}}' }, secrets)).toMatchObject({ ok: false, code: 'KB_ERR_SECRET_MISSING' });
    expect(fillSecretHeaders({ 'X-Api-Key': '{{secret:}}' }, secrets)).toMatchObject({ ok: false, code: 'KB_ERR_SECRET_MISSING' });
    // Inherited properties are not secrets.
    expect(fillSecretHeaders({ 'X-Api-Key': '{{secret:constructor}}' }, {})).toMatchObject({ ok: false, code: 'KB_ERR_SECRET_MISSING' });
  });

  it('fails with KB_ERR_SECRET_INVALID, without the value, when a secret cannot travel in a header', () => {
    for (const name of ['MULTI', 'HANGUL']) {
      const r = fillSecretHeaders({ 'X-Api-Key': `{{secret:${name}}}` }, secrets);
      expect(r).toMatchObject({ ok: false, code: 'KB_ERR_SECRET_INVALID' });
      expect(JSON.stringify(r)).not.toContain(secrets[name as keyof typeof secrets]);
    }
  });
});
