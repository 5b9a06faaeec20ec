import { describe, expect, it } from 'vitest';
import { AttemptLimiter } from './attempt-limiter.js';

describe('AttemptLimiter', () => {
  it('refuses the attempt after `limit` within the window and says when to come back', () => {
    let now = 1_000_000;
    const l = new AttemptLimiter({ limit: 3, windowMs: 60_000 }, () => now);
    for (let i = 0; i < 3; i++) {
      expect(l.retryAfterSec('k')).toBe(0);
      l.record('k');
      now += 1000;
    }
    // The oldest of the three falls out 60 s after it was made: 57 s from now.
    expect(l.retryAfterSec('k')).toBe(57);
    expect(l.retryAfterSec('other')).toBe(0);
    now += 57_000;
    expect(l.retryAfterSec('k')).toBe(0);
  });

  it('forgets a cleared key, and the least recently used keys beyond its size', () => {
    const l = new AttemptLimiter({ limit: 1, windowMs: 60_000 }, () => 0, 2);
    l.record('a');
    l.clear('a');
    expect(l.retryAfterSec('a')).toBe(0);
    l.record('a');
    l.record('b');
    l.record('c');
    expect(l.retryAfterSec('a')).toBe(0);
    expect(l.retryAfterSec('b')).toBeGreaterThan(0);
    expect(l.retryAfterSec('c')).toBeGreaterThan(0);
  });
});
