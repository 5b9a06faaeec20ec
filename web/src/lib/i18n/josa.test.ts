import { describe, expect, it } from 'vitest';
import { josa } from './josa';

describe('josa: the particle after a word', () => {
  it('follows the last syllable', () => {
    expect(`날씨좀${josa('날씨좀', 'eun')}`).toBe('날씨좀은');
    expect(`날씨${josa('날씨', 'eun')}`).toBe('날씨는');
    expect(`날씨${josa('날씨', 'wa')}`).toBe('날씨와');
    expect(`주문${josa('주문', 'wa')}`).toBe('주문과');
    expect(`오늘${josa('오늘', 'ga')}`).toBe('오늘이');
    expect(`날씨${josa('날씨', 'ro')}`).toBe('날씨로');
    expect(`서울${josa('서울', 'ro')}`).toBe('서울로');
    expect(`주문 조회${josa('주문 조회', 'ro')}`).toBe('주문 조회로');
    expect(`메뉴판${josa('메뉴판', 'ro')}`).toBe('메뉴판으로');
  });

  it('both forms after a word that does not end in Hangul', () => {
    expect(josa('weather', 'eun')).toBe('은(는)');
    expect(josa('123', 'ro')).toBe('(으)로');
  });
});
