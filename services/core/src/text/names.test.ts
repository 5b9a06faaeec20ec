import { describe, expect, it } from 'vitest';
import { invisibleIn, nameKey, normaliseName, normaliseWords } from './names.js';

describe('names: NFKC, invisible characters refused, compared case-folded', () => {
  it('names the first invisible, control or bidi character', () => {
    const cases: Record<string, string | null> = {
      'secA-bot-1': null,
      'secA-bot-1\u200b': 'U+200B',
      '\u202e날씨': 'U+202E',
      'a\u2066b': 'U+2066',
      'a\u2060b': 'U+2060',
      '\ufeffa': 'U+FEFF',
      'a\u00adb': 'U+00AD',
      '\u3164': 'U+3164', // Hangul filler, a blank that looks like nothing
      '날씨\u0007': 'U+0007',
      'a\u2028b': 'U+2028',
      'x\u200dy': 'U+200D',
      '메뉴❤️': null, // emoji presentation selector belongs to the emoji
      '👨‍👩‍👧 가족': null, // zero-width joiners inside an emoji sequence
      '1️⃣': null,
      '\ufe0fx': 'U+FE0F',
    };
    for (const [s, want] of Object.entries(cases)) expect(invisibleIn(s), JSON.stringify(s)).toBe(want);
  });

  it('stores NFKC (width forms mapped), trimmed; command words with one space between', () => {
    expect(normaliseName('  ｃａｆｅ  봇 ')).toBe('cafe  봇');
    expect(normaliseWords('  ｗｅａｔｈｅｒ　 서울 ')).toBe('weather 서울');
    // U+FEFF is no space (JavaScript's trim would drop it silently): it stays, to be refused.
    expect(normaliseName('\ufeffbot ')).toBe('\ufeffbot');
    // Decomposed Hangul (as some keyboards send it) is composed.
    expect(normaliseWords('\u1102\u1161\u11af\u110a\u1175')).toBe('날씨');
  });

  it('gives look-alikes one key', () => {
    const key = nameKey('secA-bot-1');
    for (const look of ['SECA-BOT-1', 'secA-bot-1 ', ' secA-bot-1', 'secA-bot-1\u200b', 'ｓｅｃＡ－ｂｏｔ－１', 'sec\u202eA-bot-1']) expect(nameKey(look), look).toBe(key);
    expect(nameKey('my  shop')).toBe(nameKey('My Shop'));
    expect(nameKey('Straße')).toBe(nameKey('STRASSE'));
    expect(nameKey('secA-bot-2')).not.toBe(key);
  });
});
