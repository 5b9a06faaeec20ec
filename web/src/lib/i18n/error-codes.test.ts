import { describe, expect, it } from 'vitest';
import { errorLabel } from './error-codes';
import { en } from './en';
import { ko } from './ko';

describe('errorLabel', () => {
  it('says an error code in Korean words, one label map for every page', () => {
    expect(errorLabel('KB_ERR_USER_EXCEPTION')).toBe('코드 오류');
    expect(errorLabel('KB_ERR_TIMEOUT')).toBe('시간 초과');
    expect(errorLabel('KB_ERR_SOMETHING_NEW')).toBe('오류');
  });

  it('has an English label for every Korean one', () => {
    const codes = Object.keys(ko).filter((k) => k.startsWith('code.'));
    expect(codes.length).toBeGreaterThan(10);
    expect(codes.filter((k) => !(k in en))).toEqual([]);
  });
});
