import { describe, expect, it } from 'vitest';
import { CronError, kstMinute, lastFireBetween, nextFire, nextFires, parseCron } from './cron.js';

/** KST wall time -> epoch ms. */
const kst = (s: string) => Date.parse(`${s}:00+09:00`);
const next = (expr: string, after: string) => {
  const n = nextFire(parseCron(expr), kst(after));
  return n === null ? null : kstMinute(n);
};

describe('nextFire (KST)', () => {
  it('fires at 9:00 KST, which is 00:00 UTC', () => {
    const n = nextFire(parseCron('0 9 * * *'), kst('2026-12-07 08:59'))!;
    expect(new Date(n).toISOString()).toBe('2026-12-07T00:00:00.000Z');
    expect(next('0 9 * * *', '2026-12-07 09:00')).toBe('2026-12-08 09:00');
  });

  it('is strictly after, at whole minutes (seconds ignored)', () => {
    expect(nextFire(parseCron('* * * * *'), kst('2026-12-07 10:00') + 30_000)).toBe(kst('2026-12-07 10:01'));
  });

  it('crosses the KST day at 15:00 UTC, not at UTC midnight', () => {
    // 23:30 KST Dec 7 = 14:30 UTC Dec 7; the next 00:10 KST is Dec 8 (15:10 UTC Dec 7).
    const n = nextFire(parseCron('10 0 * * *'), kst('2026-12-07 23:30'))!;
    expect(new Date(n).toISOString()).toBe('2026-12-07T15:10:00.000Z');
  });

  it('has no daylight saving: every day of the year fires at the same UTC hour', () => {
    const fires = nextFires(parseCron('30 2 * * *'), kst('2026-01-01 00:00'), 365);
    expect(new Set(fires.map((f) => new Date(f).toISOString().slice(11, 16)))).toEqual(new Set(['17:30']));
  });

  it('month ends: the 31st skips short months, Feb 29 waits for a leap year, Feb 30 never fires', () => {
    expect(nextFires(parseCron('0 9 31 * *'), kst('2027-01-31 10:00'), 3).map(kstMinute)).toEqual(['2027-03-31 09:00', '2027-05-31 09:00', '2027-07-31 09:00']);
    expect(next('0 0 29 2 *', '2026-03-01 00:00')).toBe('2028-02-29 00:00');
    expect(next('0 9 30 2 *', '2026-01-01 00:00')).toBeNull();
    expect(next('59 23 * * *', '2026-12-31 23:59')).toBe('2027-01-01 23:59');
  });

  it('day-of-week ranges, lists, steps, 7 = Sunday and names', () => {
    // 2026-12-07 is a Monday.
    expect(next('0 18 * * 1-5', '2026-12-11 18:00')).toBe('2026-12-14 18:00');
    expect(nextFires(parseCron('0 10 * * 0,6'), kst('2026-12-07 00:00'), 2).map(kstMinute)).toEqual(['2026-12-12 10:00', '2026-12-13 10:00']);
    expect(nextFires(parseCron('0 8 * * */2'), kst('2026-12-07 09:00'), 3).map(kstMinute)).toEqual(['2026-12-08 08:00', '2026-12-10 08:00', '2026-12-12 08:00']);
    expect(next('0 8 * * 7', '2026-12-07 00:00')).toBe('2026-12-13 08:00');
    expect(next('0 8 * * SUN', '2026-12-07 00:00')).toBe('2026-12-13 08:00');
    expect(next('0 8 * * 5-7', '2026-12-07 00:00')).toBe('2026-12-11 08:00');
    expect(next('0 8 1 JAN *', '2026-12-07 00:00')).toBe('2027-01-01 08:00');
  });

  it('a restricted day-of-month and day-of-week fire on either (Vixie cron)', () => {
    // The 15th (a Tuesday) or any Friday.
    expect(nextFires(parseCron('0 9 15 * 5'), kst('2026-12-07 00:00'), 3).map(kstMinute)).toEqual(['2026-12-11 09:00', '2026-12-15 09:00', '2026-12-18 09:00']);
  });

  it('minute steps and hour ranges with steps', () => {
    expect(nextFires(parseCron('*/30 * * * *'), kst('2026-12-07 10:10'), 3).map(kstMinute)).toEqual(['2026-12-07 10:30', '2026-12-07 11:00', '2026-12-07 11:30']);
    expect(nextFires(parseCron('0 9-17/4 * * *'), kst('2026-12-07 10:00'), 3).map(kstMinute)).toEqual(['2026-12-07 13:00', '2026-12-07 17:00', '2026-12-08 09:00']);
    expect(nextFires(parseCron('5/20 * * * *'), kst('2026-12-07 10:00'), 3).map(kstMinute)).toEqual(['2026-12-07 10:05', '2026-12-07 10:25', '2026-12-07 10:45']);
  });

  it('refuses malformed expressions in Korean', () => {
    for (const bad of ['', '* * * *', '60 * * * *', '* 24 * * *', '* * 0 * *', '* * * 13 *', '* * * * 8', '*/0 * * * *', '5-1 * * * *', 'a * * * *', '1/2/3 * * * *']) {
      expect(() => parseCron(bad), bad).toThrow(CronError);
    }
    expect(() => parseCron('60 * * * *')).toThrow(/분 칸의 60/);
  });
});

describe('lastFireBetween (missed periods)', () => {
  it('finds the latest period owed and how many were missed', () => {
    const r = lastFireBetween(parseCron('*/30 * * * *'), kst('2026-12-07 09:00'), kst('2026-12-07 11:10'));
    expect(r.count).toBe(4);
    expect(kstMinute(r.last!)).toBe('2026-12-07 11:00');
    expect(lastFireBetween(parseCron('0 9 * * *'), kst('2026-12-07 09:00'), kst('2026-12-07 11:10'))).toEqual({ last: null, count: 0 });
  });
});
