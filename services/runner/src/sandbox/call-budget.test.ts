import { describe, expect, it } from 'vitest';
import { EVENT_BYTES_MAX, EventBudget, OUTPUT_MAX_BYTES, capText } from './call-budget.js';

describe('call budget', () => {
  it('cuts text at a byte cap without splitting a character', () => {
    expect(capText('abc', 10)).toEqual({ text: 'abc', cut: false });
    expect(capText('가나다라', 7)).toEqual({ text: '가나', cut: true });
    expect(capText('가나다라', 12)).toEqual({ text: '가나다라', cut: false });
    expect(capText('😀😀', 5)).toEqual({ text: '😀', cut: true });
    const big = capText('O'.repeat(3_000_000), OUTPUT_MAX_BYTES);
    expect(Buffer.byteLength(big.text)).toBe(OUTPUT_MAX_BYTES);
    expect(big.cut).toBe(true);
  });

  it('passes on event data up to the output cap, then nothing, and refuses a flood', () => {
    const b = new EventBudget();
    expect(b.take('x'.repeat(60 * 1024), 60 * 1024 + 30)).toHaveLength(60 * 1024);
    expect(b.take('y'.repeat(10 * 1024), 10 * 1024 + 30)).toHaveLength(4 * 1024);
    expect(b.take('z', 31)).toBe('');
    const flood = new EventBudget();
    expect(flood.take('E'.repeat(10), EVENT_BYTES_MAX + 1)).toBeNull();
  });
});
