import { describe, expect, it } from 'vitest';
import { kstMinute, parseCron } from './cron.js';
import { MAX_SKIPPED_RECORDED, planFires } from './missed-fires.js';

const kst = (s: string) => Date.parse(`${s}:00+09:00`);

describe('planFires (missed-fire policy)', () => {
  it('on time: the due period runs, nothing skipped, next is the following period', () => {
    const p = planFires(parseCron('0 9 * * *'), kst('2026-12-07 09:00'), kst('2026-12-07 09:00') + 800);
    expect(p.fire).toBe(kst('2026-12-07 09:00'));
    expect(p.skipped).toEqual([]);
    expect(kstMinute(p.next!)).toBe('2026-12-08 09:00');
  });

  it('after downtime: the latest period runs when at most 10 minutes late, older ones are skipped', () => {
    const p = planFires(parseCron('*/30 * * * *'), kst('2026-12-07 09:00'), kst('2026-12-07 10:38'));
    expect(kstMinute(p.fire!)).toBe('2026-12-07 10:30');
    expect(p.skipped.map(kstMinute)).toEqual(['2026-12-07 09:00', '2026-12-07 09:30', '2026-12-07 10:00']);
    expect(p.skippedCount).toBe(3);
    expect(kstMinute(p.next!)).toBe('2026-12-07 11:00');
  });

  it('a latest period more than 10 minutes late is skipped too', () => {
    const p = planFires(parseCron('0 9 * * *'), kst('2026-12-07 09:00'), kst('2026-12-07 12:00'));
    expect(p.fire).toBeNull();
    expect(p.skipped.map(kstMinute)).toEqual(['2026-12-07 09:00']);
    expect(kstMinute(p.next!)).toBe('2026-12-08 09:00');
  });

  it('a long outage records only the newest skipped periods and counts the rest', () => {
    const p = planFires(parseCron('* * * * *'), kst('2026-12-01 00:00'), kst('2026-12-07 00:00') + 5000);
    expect(kstMinute(p.fire!)).toBe('2026-12-07 00:00');
    expect(p.skipped).toHaveLength(MAX_SKIPPED_RECORDED);
    expect(p.skippedCount).toBe(6 * 24 * 60);
    expect(kstMinute(p.skipped[p.skipped.length - 1]!)).toBe('2026-12-06 23:59');
  });
});
