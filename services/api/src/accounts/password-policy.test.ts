import { describe, expect, it } from 'vitest';
import { checkPassword, passwordProblem } from './password-policy.js';

describe('passwordProblem', () => {
  it('refuses one character repeated, and too few distinct characters', () => {
    for (const p of ['aaaaaaaa', 'AAAAaaaa', 'abababab', '12121212', '........']) expect(passwordProblem(p, 'x@shop.example'), p).toMatch(/반복/);
  });
  it('refuses common passwords, also dressed in case, separators or trailing digits', () => {
    for (const p of ['password', '12345678', 'iloveyou', 'Password1', 'Qwerty-123', 'P@ssword!', 'sunshine2026', 'q w e r t y 1 2 3']) {
      expect(passwordProblem(p, 'x@shop.example'), p).toMatch(/흔한/);
    }
  });
  it('refuses the email\'s name part and the service name inside the password', () => {
    expect(passwordProblem('sunnybakery2026', 'sunnybakery@h.example')).toMatch(/이메일/);
    expect(passwordProblem('my.sunny.bakery!', 'sunny.bakery@h.example')).toMatch(/이메일/);
    expect(passwordProblem('i-love-domaeka-42', 'x@shop.example')).toMatch(/서비스/);
  });
  it('accepts passphrases and random strings', () => {
    for (const p of ['correct horse battery', 'bakery opens at seven', 'xq93kf2047', '떡볶이 맛집 화도읍 3호점', 'T4k!mz9q']) {
      expect(passwordProblem(p, 'owner@shop.example'), p).toBeNull();
    }
    // A short email name is no word to look for.
    expect(passwordProblem('abc horse battery', 'abc@shop.example')).toBeNull();
  });
  it('throws 400 KB_ERR_VALIDATION with the Korean reason first', () => {
    expect(() => checkPassword('aaaaaaaa', 'x@shop.example')).toThrow(expect.objectContaining({ code: 'KB_ERR_VALIDATION', status: 400 }));
  });
});
