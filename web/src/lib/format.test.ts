import { describe, expect, it } from 'vitest';
import { dateTime, koreanDate } from './format';

describe('dates the Korean way (Asia/Seoul, 24-hour clock)', () => {
  const now = new Date('2026-12-07T12:00:00Z');

  it('month and day in words, the time in Korean time', () => {
    // 06:04:05 UTC is 15:04:05 in Seoul.
    expect(koreanDate('2026-12-07T06:04:05Z', { now })).toBe('12월 7일 15:04');
    expect(koreanDate('2026-12-07T06:04:05Z', { now, seconds: true })).toBe('12월 7일 15:04:05');
    // Past midnight in Seoul is the next day there.
    expect(koreanDate('2026-03-01T15:30:00Z', { now })).toBe('3월 2일 00:30');
  });

  it('the year only when it is not this year, nothing for no date', () => {
    expect(koreanDate('2025-12-31T14:59:59Z', { now, seconds: true })).toBe('2025년 12월 31일 23:59:59');
    expect(koreanDate(null)).toBe('-');
    expect(koreanDate('not a date')).toBe('-');
    expect(dateTime(undefined)).toBe('-');
  });
});
