import { describe, expect, it } from 'vitest';
import { checkErrorReply } from './error-reply-service.js';

describe('checkErrorReply', () => {
  it('keeps a short text, trimmed; empty means the default', () => {
    expect(checkErrorReply('  잠시 후 다시 물어봐 주세요 🙏  ')).toBe('잠시 후 다시 물어봐 주세요 🙏');
    expect(checkErrorReply('첫 줄\r\n둘째 줄')).toBe('첫 줄\n둘째 줄');
    expect(checkErrorReply('   ')).toBeNull();
    expect(checkErrorReply(null)).toBeNull();
  });

  it('refuses more than 200 characters (code points) and control or invisible characters', () => {
    expect(checkErrorReply('😀'.repeat(200))).toBe('😀'.repeat(200));
    expect(() => checkErrorReply('가'.repeat(201))).toThrow(/200자까지/);
    for (const bad of ['a\u0000b', 'a\u0007b', 'a\tb', 'a\u200bb', 'a\u202eb']) expect(() => checkErrorReply(bad)).toThrow(/제어 문자/);
    expect(checkErrorReply('전화 주세요 ☎️ 👨‍🍳')).toBe('전화 주세요 ☎️ 👨‍🍳');
  });
});
