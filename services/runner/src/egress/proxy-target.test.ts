import { describe, expect, it } from 'vitest';
import { endToEndHeaders, parseAbsoluteTarget, parseConnectTarget } from './proxy-target.js';

describe('parseConnectTarget', () => {
  it('reads host:port and [v6]:port', () => {
    expect(parseConnectTarget('api.example.com:443')).toEqual({ host: 'api.example.com', port: 443 });
    expect(parseConnectTarget('[2001:db8::1]:8443')).toEqual({ host: '[2001:db8::1]', port: 8443 });
  });

  it('refuses targets without a port or with parts that belong elsewhere in a URL', () => {
    for (const bad of ['api.example.com', 'api.example.com:', 'a:b', 'user@a.com:443', 'a.com/x:443', 'a.com:443/x', '::1:443', 'a b:1']) {
      expect(parseConnectTarget(bad), bad).toBeNull();
    }
  });
});

describe('parseAbsoluteTarget', () => {
  it('accepts http:// only; https goes through CONNECT, origin-form is not a proxy request', () => {
    expect(parseAbsoluteTarget('http://a.example/x?y=1')).toMatchObject({ ok: true });
    expect(parseAbsoluteTarget('https://a.example/')).toEqual({ ok: false, reason: 'https:// URLs go through CONNECT' });
    expect(parseAbsoluteTarget('/x')).toMatchObject({ ok: false });
    expect(parseAbsoluteTarget('ftp://a.example/')).toMatchObject({ ok: false });
  });
});

describe('endToEndHeaders', () => {
  it('drops hop-by-hop and proxy headers and those the Connection header names, keeps repeats', () => {
    const raw = [
      'Host', 'a.example', 'Connection', 'keep-alive, X-Hop', 'X-Hop', '1', 'Proxy-Authorization', 'Basic x',
      'Proxy-Connection', 'keep-alive', 'Authorization', 'Bearer k', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'Transfer-Encoding', 'chunked',
    ];
    expect(endToEndHeaders(raw, true)).toEqual({ authorization: 'Bearer k', 'set-cookie': ['a=1', 'b=2'] });
    expect(endToEndHeaders(['Host', 'h', 'Expect', '100-continue'], false)).toEqual({ host: 'h', expect: '100-continue' });
  });
});
