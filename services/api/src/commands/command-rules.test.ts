import { describe, expect, it } from 'vitest';
import { KbError } from '@domaeka/core';
import { checkCode, checkHeaders, checkPattern, checkUrlShape, maskHeaders, normaliseCommandWords } from './command-rules.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof KbError ? err.code : 'not-a-KbError';
  }
  return undefined;
}

describe('command words', () => {
  it('trims and collapses whitespace', () => {
    expect(normaliseCommandWords('  주문 \t  조회 ')).toBe('주문 조회');
  });
  it('refuses empty, more than 5 words and more than 50 characters', () => {
    expect(codeOf(() => normaliseCommandWords('   '))).toBe('KB_ERR_VALIDATION');
    expect(codeOf(() => normaliseCommandWords('a b c d e f'))).toBe('KB_ERR_VALIDATION');
    expect(normaliseCommandWords('a b c d e')).toBe('a b c d e');
    expect(codeOf(() => normaliseCommandWords('가'.repeat(51)))).toBe('KB_ERR_VALIDATION');
    expect(normaliseCommandWords('가'.repeat(50))).toHaveLength(50);
  });
  it('maps compatibility forms (NFKC) and refuses zero-width, bidi and control characters, Korean first', () => {
    expect(normaliseCommandWords('ｗｅａｔｈｅｒ\u3000서울')).toBe('weather 서울');
    expect(normaliseCommandWords('메뉴❤️')).toBe('메뉴❤️');
    for (const bad of ['날씨\u200b', '\u202e날씨', '주문\u2066 조회', '날\u200d씨', '\u3164', '날씨\u0007']) {
      expect(codeOf(() => normaliseCommandWords(bad)), JSON.stringify(bad)).toBe('KB_ERR_VALIDATION');
    }
    expect(() => normaliseCommandWords('날씨\u200b')).toThrow(/^명령어에 보이지 않는 문자.*U\+200B/);
  });
});

describe('patterns', () => {
  it('keeps what RE2 compiles and treats empty as none', () => {
    expect(checkPattern('^날씨\\s+(\\S+)$')).toBe('^날씨\\s+(\\S+)$');
    expect(checkPattern('')).toBeNull();
    expect(checkPattern(null)).toBeNull();
  });
  it('refuses lookbehind, backreferences and broken syntax with RE2 words', () => {
    for (const p of ['(?<=a)b', '(a)\\1', '(']) {
      expect(codeOf(() => checkPattern(p))).toBe('KB_ERR_INVALID_PATTERN');
    }
    try {
      checkPattern('(');
    } catch (err) {
      expect((err as Error).message).toContain('missing )');
    }
  });
});

describe('targets', () => {
  it('accepts http(s) URLs and refuses other schemes and credentials', () => {
    expect(checkUrlShape('https://api.example.com/hook')).toBe('https://api.example.com/hook');
    expect(codeOf(() => checkUrlShape('ftp://example.com/'))).toBe('KB_ERR_VALIDATION');
    expect(codeOf(() => checkUrlShape('http://user:pw@example.com/'))).toBe('KB_ERR_VALIDATION');
    expect(codeOf(() => checkUrlShape('not a url'))).toBe('KB_ERR_VALIDATION');
  });
  it('checks header names and values and masks values', () => {
    expect(checkHeaders({ Authorization: 'Bearer x' })).toEqual({ Authorization: 'Bearer x' });
    expect(codeOf(() => checkHeaders({ 'bad name': 'x' }))).toBe('KB_ERR_VALIDATION');
    expect(codeOf(() => checkHeaders({ 'X-A': 'a\r\nX-B: b' }))).toBe('KB_ERR_VALIDATION');
    expect(codeOf(() => checkHeaders({ Host: 'evil' }))).toBe('KB_ERR_VALIDATION');
    expect(maskHeaders({ Authorization: 'Bearer secret' })).toEqual({ Authorization: '********' });
  });
  it('limits sandbox code to 100 KB of UTF-8', () => {
    expect(checkCode('x'.repeat(100 * 1024))).toHaveLength(100 * 1024);
    expect(codeOf(() => checkCode('가'.repeat(40_000)))).toBe('KB_ERR_VALIDATION');
  });
});
