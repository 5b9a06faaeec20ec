import { describe, expect, it } from 'vitest';
import { KbError } from '@domaeka/core';
// Core's egress internals are not exported from @domaeka/core; the test reaches them by path to prove that
// what the API stores is read unchanged by the runner's DomainList and normaliseHost.
import { DomainList, normaliseHost } from '@domaeka/calls';
import { MAX_EGRESS_DOMAINS, checkEgressDomain, checkEgressDomains } from './egress-rules.js';

const refusal = (entry: string): { code: string; message: string; entry: unknown } | null => {
  try {
    checkEgressDomain(entry);
    return null;
  } catch (err) {
    if (!(err instanceof KbError)) throw err;
    return { code: err.code, message: err.message, entry: err.details?.entry };
  }
};

describe('egress domain rules', () => {
  it('stores names lower case, in punycode, without a trailing dot, and keeps a leading *.', () => {
    expect(checkEgressDomain('API.Example.com')).toBe('api.example.com');
    expect(checkEgressDomain('  api.example.com.  ')).toBe('api.example.com');
    expect(checkEgressDomain('*.Weather.Example')).toBe('*.weather.example');
    expect(checkEgressDomain('날씨.한국')).toBe('xn--i20bj30b.xn--3e0b707e');
    expect(checkEgressDomain('openapi.naver.com')).toBe('openapi.naver.com');
    expect(checkEgressDomain('a-1.b2.io')).toBe('a-1.b2.io');
  });

  it('refuses URLs, ports, paths, IPs, bare or misplaced wildcards and broken names, naming the entry', () => {
    const cases: [string, RegExp][] = [
      ['http://x.com', /http:\/\//],
      ['https://api.example.com/v1', /http:\/\//],
      ['x.com:443', /포트/],
      ['x.com/path', /경로/],
      ['user@x.com', /사용자 정보/],
      ['10.0.0.1', /IP/],
      ['8.8.8.8', /IP/],
      ['[::1]', /IP/],
      ['::ffff:127.0.0.1', /IP/],
      ['0x7f.1', /IP/],
      ['2130706433', /IP/],
      ['*', /모든 도메인/],
      ['*.', /모든 도메인/],
      ['*.com', /최상위/],
      ['a.*.com', /맨 앞/],
      ['*example.com', /맨 앞/],
      ['a..b', /올바른 도메인/],
      ['-a.com', /올바른 도메인/],
      ['a_b.com', /올바른 도메인/],
      ['exa mple.com', /올바른 도메인/],
      ['x.123-4', /올바른 도메인/],
      [`${'a'.repeat(64)}.com`, /올바른 도메인/],
      [`${'a.'.repeat(130)}com`, /올바른 도메인/],
      ['localhost', /점/],
      ['', /빈 항목/],
    ];
    for (const [entry, why] of cases) {
      const r = refusal(entry);
      expect(r, entry).not.toBeNull();
      expect(r!.code, entry).toBe('KB_ERR_VALIDATION');
      expect(r!.message, entry).toMatch(why);
      expect(r!.message, entry).toContain(` / `);
      expect(r!.entry, entry).toBe(entry);
      if (entry.length > 0 && entry.length <= 80) expect(r!.message, entry).toContain(`"${entry.trim()}"`);
    }
  });

  it('collapses duplicates after normalising, sorts, and allows at most 50 names', () => {
    expect(checkEgressDomains(['api.example.com', '*.weather.example', 'API.Example.com', 'api.example.com.'])).toEqual(['*.weather.example', 'api.example.com']);
    expect(checkEgressDomains([])).toEqual([]);
    const fifty = Array.from({ length: MAX_EGRESS_DOMAINS }, (_, i) => `api${i}.example.com`);
    expect(checkEgressDomains([...fifty, 'API0.example.com'])).toHaveLength(50);
    expect(() => checkEgressDomains([...fifty, 'one-more.example.com'])).toThrow(/50개까지/);
  });

  it("stores what the runner's DomainList and normaliseHost read unchanged", () => {
    const stored = checkEgressDomains(['API.Example.com', '*.Weather.Example', '날씨.한국', 'a-1.b2.io.']);
    for (const d of stored) expect(normaliseHost(d.replace(/^\*\./, ''))).toBe(d.replace(/^\*\./, ''));
    const list = new DomainList(stored);
    expect(list.matches('api.example.com')).toBe(true);
    expect(list.matches('seoul.weather.example')).toBe(true);
    expect(list.matches('weather.example')).toBe(false);
    expect(list.matches('evil-api.example.com')).toBe(false);
    expect(list.matches(normaliseHost('날씨.한국')!)).toBe(true);
  });
});
