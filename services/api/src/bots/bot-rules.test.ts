import { describe, expect, it } from 'vitest';
import { checkAdoptedPair, checkBotName } from './bot-rules.js';

describe('bot rules', () => {
  it('stores the NFKC, trimmed name and compares its key', () => {
    expect(checkBotName('  ｓｅｃＡ-bot-1 ')).toEqual({ name: 'secA-bot-1', key: 'seca-bot-1' });
    expect(checkBotName('LOA.i').name).toBe('LOA.i');
  });

  it('refuses empty, invisible and over-long names with a Korean message naming the character', () => {
    expect(() => checkBotName(' \u3000 ')).toThrow(/^봇 이름이 비어/);
    expect(() => checkBotName('secA-bot-1\u200b')).toThrow(/^봇 이름에 보이지 않는 문자.*U\+200B/);
    expect(() => checkBotName('\u202ebot')).toThrow(/U\+202E/);
    expect(() => checkBotName('가'.repeat(101))).toThrow(/100자/);
    // NFKC can lengthen a name: counted after.
    expect(() => checkBotName('\ufdfa'.repeat(10))).toThrow(/100자/);
  });

  it('wants adopted keys of 16 characters and salts of 8', () => {
    expect(() => checkAdoptedPair('k', 's'.repeat(8))).toThrow(/^비밀 키는 16자 이상/);
    expect(() => checkAdoptedPair('k'.repeat(16), 's')).toThrow(/^솔트는 8자 이상/);
    expect(() => checkAdoptedPair('k'.repeat(16), 's'.repeat(8))).not.toThrow();
    expect(() => checkAdoptedPair(undefined, undefined)).not.toThrow();
  });
});
