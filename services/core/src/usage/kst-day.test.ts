import { describe, expect, it } from 'vitest';
import { kstDay, kstDayEnd, kstDaysEnding } from './kst-day.js';

describe('kstDay', () => {
  it('turns at KST midnight, which is 15:00 UTC', () => {
    expect(kstDay(Date.parse('2026-03-01T14:59:59.999Z'))).toBe('2026-03-01');
    expect(kstDay(Date.parse('2026-03-01T15:00:00.000Z'))).toBe('2026-03-02');
  });

  it('is already tomorrow in Seoul for a late UTC evening, across month and year ends', () => {
    expect(kstDay(Date.parse('2026-12-31T15:00:00Z'))).toBe('2027-01-01');
    expect(kstDay(Date.parse('2026-02-28T16:30:00Z'))).toBe('2026-03-01');
    expect(kstDay(Date.parse('2026-07-10T00:00:00Z'))).toBe('2026-07-10');
  });

  it('ends the day at the next 15:00 UTC', () => {
    expect(new Date(kstDayEnd(Date.parse('2026-03-01T14:59:59Z'))).toISOString()).toBe('2026-03-01T15:00:00.000Z');
    expect(new Date(kstDayEnd(Date.parse('2026-03-01T15:00:00Z'))).toISOString()).toBe('2026-03-02T15:00:00.000Z');
  });

  it('lists the days ending today, oldest first', () => {
    expect(kstDaysEnding(Date.parse('2026-03-02T15:00:00Z'), 3)).toEqual(['2026-03-01', '2026-03-02', '2026-03-03']);
  });
});
