import { describe, expect, it } from 'vitest';
import { errorRate, escapeLike, millis, requestSummary } from './log-rules.js';

describe('log rules', () => {
  it('reads room, sender and text from the recorded request body', () => {
    const body = JSON.stringify({ command: '날씨', raw_text: '날씨 부산', sender: '홍길동', room: '테스트방', metadata: {} });
    expect(requestSummary(body)).toEqual({ room: '테스트방', sender: '홍길동', text: '날씨 부산' });
  });

  it('gives nulls for a missing, cut-off or odd request body', () => {
    const none = { room: null, sender: null, text: null };
    expect(requestSummary(null)).toEqual(none);
    expect(requestSummary('{"room":"방","raw_text":"잘린')).toEqual(none);
    expect(requestSummary('[1,2]')).toEqual(none);
    expect(requestSummary('"text"')).toEqual(none);
    expect(requestSummary('{"room":5,"sender":"a"}')).toEqual({ room: null, sender: 'a', text: null });
  });

  it('escapes LIKE wildcards and the escape character', () => {
    expect(escapeLike('100%_done\\ok')).toBe('100\\%\\_done\\\\ok');
    expect(escapeLike('날씨 부산')).toBe('날씨 부산');
  });

  it('computes the error rate and whole milliseconds', () => {
    expect(errorRate(0, 0)).toBe(0);
    expect(errorRate(6, 2)).toBe(0.3333);
    expect(errorRate(4, 4)).toBe(1);
    expect(millis(null)).toBeNull();
    expect(millis('41.6')).toBe(42);
    expect(millis(300.2)).toBe(300);
  });
});
